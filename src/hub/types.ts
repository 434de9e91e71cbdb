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
  /** True while the hub accepts requests (false once shutdown began). */
  readonly accepting: boolean;
  /**
   * Stops accepting, ends every stream (clients reconnect elsewhere, resuming from their last
   * event id), then closes the transport (flushing durable stores). Idempotent.
   */
  shutdown(): Promise<void>;
}
