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

/** What a publisher sends; the hub validates it and assigns an id when there is none. */
export interface PublishInput {
  /** Canonical topic first, then alternates. */
  topics: string[];
  data?: string;
  private?: boolean;
  id?: string;
  type?: string;
  retry?: number;
}

/**
 * A running hub: the pub/sub core plus its Mercure HTTP surface. Created by `createHub(options)`
 * (src/hub/create-hub.ts); `HubOptions` lives in src/hub/options.ts.
 */
/** What the hub's work looks like right now (see `Hub.stats`). */
export interface HubStats {
  /** Updates waiting for fan-out behind the one under way. */
  readonly dispatchBacklog: number;
  /** Times a fan-out paused to let pending I/O run, since start. */
  readonly dispatchPauses: number;
  /** Estimated bytes of history pages kept for replays to share. */
  readonly historyCacheBytes: number;
  /** Gaps in the live feed since start, by reason (see `FeedGap`); each ended every stream. */
  readonly feedGaps: { readonly lagged: number; readonly lost: number };
}

export interface Hub {
  /**
   * Node request handler for `/.well-known/mercure` and below. Requests for other paths go to
   * `next` when given (Express/Connect style), else get a 404. Works with node:http, the http2
   * compatibility API, Express, Koa (`ctx.req`, `ctx.res` with `ctx.respond = false`) and Fastify
   * (`reply.hijack()`, `request.raw`, `reply.raw`).
   */
  handler(
    req: import('node:http').IncomingMessage,
    res: import('node:http').ServerResponse,
    next?: (err?: unknown) => void,
  ): void;
  /** Publishes without HTTP or authorization (trusted server code). Resolves with the id. */
  publish(input: PublishInput): Promise<string>;
  /** Number of open subscriber streams on this node. */
  readonly subscriberCount: number;
  /** Figures about the hub's own work, for metrics. */
  readonly stats: HubStats;
  /** True while the hub accepts requests (false once shutdown began). */
  readonly accepting: boolean;
  /**
   * Stops accepting, ends every stream (clients reconnect elsewhere, resuming from their last
   * event id), then closes the transport (flushing durable stores). Idempotent.
   */
  shutdown(): Promise<void>;
}
