import type { TopicMatcher } from '../selectors/index.js';

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
  /**
   * `publish` compiled with each selector's own syntax. Draft-08 tokens mix exact and URL-pattern
   * matchers, which the strings alone cannot say; when present, authorize with these.
   */
  publishMatchers?: TopicMatcher[];
  /** `subscribe` compiled with each selector's own syntax; when present, authorize with these. */
  subscribeMatchers?: TopicMatcher[];
}

export type TokenRole = 'publisher' | 'subscriber';

/**
 * Verifies a JWT and says what it allows. The hub never parses tokens itself. Rejects with an
 * SseHubError: INVALID_TOKEN, TOKEN_EXPIRED (401).
 */
export interface Authorizer {
  verify(token: string, role: TokenRole): Promise<Claims>;
}
