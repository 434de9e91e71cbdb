/** What a verified token allows, whichever draft's claim shape it used. */
export interface Claims {
  /** Topic selectors the bearer may publish to; undefined = may not publish. */
  publish?: string[];
  /** Topic selectors the bearer may subscribe to (and receive private updates of). */
  subscribe?: string[];
  /** Arbitrary data attached to the subscriber (shown in subscription events). */
  payload?: unknown;
  /** Expiry, seconds since the epoch. */
  exp?: number;
}

export type TokenRole = 'publisher' | 'subscriber';

/**
 * Verifies a JWT and says what it allows. The hub never parses tokens itself. Rejects with an
 * SseHubError: INVALID_TOKEN, TOKEN_EXPIRED (401).
 */
export interface Authorizer {
  verify(token: string, role: TokenRole): Promise<Claims>;
}

/** A compiled topic selector. */
export interface TopicMatcher {
  /** The selector as given. */
  readonly source: string;
  /** True for `*`, templates and URL patterns: these must be scanned, not looked up. */
  readonly isPattern: boolean;
  matches(topic: string): boolean;
}

/** How a selector string is read: draft 07 `topic=` (exact, `*` or RFC 6570 template) or a WHATWG URL pattern. */
export type SelectorSyntax = 'template' | 'urlpattern';
