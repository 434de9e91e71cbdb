import type { PublishInput } from './core/index.js';

// The public hub types. Those a folder owns are declared there and re-exported here.
export type { Authorizer, Claims, TokenRole } from './auth/index.js';
export type { PublishInput } from './core/index.js';
export type { SelectorSyntax, TopicMatcher } from './selectors/index.js';

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
  /** Updates accepted for publishing since start (HTTP and `hub.publish`; not subscription events). */
  readonly published: number;
  /** Live deliveries since start: one update written for one subscriber (replays not counted). */
  readonly deliveries: number;
  /** Subscribers cut off since start because their queue overflowed (`maxQueueBytes`). */
  readonly cutOffs: number;
  /**
   * Requests refused by a per-client limit since start: `streams` (maxStreamsPerClient),
   * `subscribe` (maxSubscribeRate), `publish` (maxPublishRate).
   */
  readonly rateLimited: {
    readonly streams: number;
    readonly subscribe: number;
    readonly publish: number;
  };
}

/** What {@link Hub.checkToken} found: the claims of a token that verified, and its grants. */
export interface TokenCheck {
  readonly claims: import('./auth/index.js').Claims;
  /** True when one of the token's grants for the role matches the topic asked about. */
  readonly matches: boolean;
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
  /**
   * The client's address as the hub sees it: the connection's peer, or, when the peer is one of
   * `trustedProxies`, the address the proxies forwarded. For an application's own logs and limits.
   */
  clientAddress(req: import('node:http').IncomingMessage): string;
  /** Publishes without HTTP or authorization (trusted server code). Resolves with the id. */
  publish(input: PublishInput): Promise<string>;
  /** Number of open subscriber streams on this node. */
  readonly subscriberCount: number;
  /** Figures about the hub's own work, for metrics. */
  readonly stats: HubStats;
  /**
   * For operator tools (the console): verifies `token` for `role` exactly as the hub's requests
   * do (same authorizer, audience, issuers), and says whether its grants for that role (publish
   * or subscribe) match `topic`. Rejects with the SseHubError a request would get
   * (INVALID_TOKEN, TOKEN_EXPIRED).
   */
  checkToken(
    token: string,
    role: import('./auth/index.js').TokenRole,
    topic?: string,
  ): Promise<TokenCheck>;
  /**
   * `{path}/subscriptions`: the prefix of subscription events' topics and the subscriptions
   * API's collection, whether or not `subscriptions` is on.
   */
  readonly subscriptionsTopic: string;
  /** True when subscription events and the subscriptions API are on (`subscriptions`). */
  readonly subscriptionsEnabled: boolean;
  /** True while the hub accepts requests (false once shutdown began). */
  readonly accepting: boolean;
  /**
   * Stops accepting, ends every stream (clients reconnect elsewhere, resuming from their last
   * event id), then closes the transport (flushing durable stores). Idempotent.
   */
  shutdown(): Promise<void>;
}
