import type { TopicMatcher } from '../selectors/index.js';

/** What a verified token allows, whichever draft's claim shape it used. */
export interface Claims {
  /** Topic selectors the bearer may publish to; undefined = may not publish. */
  publish?: string[];
  /** Topic selectors the bearer may subscribe to (and receive private updates of). */
  subscribe?: string[];
  /**
   * Draft-07 tokens: the `mercure.payload`, attached to every subscription of the subscriber
   * (shown in subscription events). Current-spec tokens use `subscribePayloads`; read either
   * through `payloadFor`.
   */
  payload?: unknown;
  /**
   * Current-spec tokens: every `subscribe` authorization detail, in token order, with its
   * payload (absent when the detail has none). A subscription gets the payload of the first one
   * whose matchers match its own matcher string.
   */
  subscribePayloads?: SubscribePayload[];
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

/** One `subscribe` authorization detail: its compiled topic matchers and its payload. */
export interface SubscribePayload {
  readonly matchers: readonly TopicMatcher[];
  readonly payload?: unknown;
}

export type TokenRole = 'publisher' | 'subscriber';

/**
 * Verifies a JWT and says what it allows. The hub never parses tokens itself. Rejects with an
 * SseHubError: INVALID_TOKEN, TOKEN_EXPIRED (401).
 */
export interface Authorizer {
  verify(token: string, role: TokenRole): Promise<Claims>;
}
