import type { SseHubError } from '../errors.js';

/** One event as the client delivers it. */
export interface SseEvent {
  /** `message` when the server named no event type. */
  type: string;
  data: string;
  /** The last event id at dispatch time (it persists across events, as in EventSource). */
  lastEventId: string;
  /** Origin of the URL the stream came from (after redirects). */
  origin: string;
}

/** What the server answered when a connection opened. */
export interface OpenInfo {
  status: number;
  headers: Headers;
  /** The final URL (after redirects). */
  url: string;
  /** The `Last-Event-ID` this connection asked for ('' when none). */
  requestedLastEventId: string;
}

/**
 * The hub answered a resume with a different id than the one requested: events between the two
 * are gone (a Mercure hub answers `earliest` when it no longer has the requested id).
 */
export interface HistoryLostInfo {
  requested: string;
  returned: string;
}

/** Announced before every reconnect, with the delay the policy chose. */
export interface ReconnectInfo {
  /** 0 for the first reconnect after a working connection, +1 for every failure since. */
  attempt: number;
  delayMs: number;
  /** Why the previous connection ended. */
  error: SseHubError;
}

/** What a `retryDelay` hook is told. */
export interface RetryInfo {
  error: SseHubError;
  /** HTTP status of the failed response, when there was one. */
  status?: number;
  /** What `Retry-After` asked for, in ms (capped by `maxRetryAfterMs`). */
  retryAfterMs?: number;
  /** The current base delay: the server's last `retry:` or `initialDelayMs`. */
  baseMs: number;
  maxMs: number;
  /** What the default policy chose (Retry-After, else full-jitter exponential back-off). */
  defaultDelayMs: number;
}

/** A `fetch`-compatible function; only the form `(url, init)` is used. */
export type FetchLike = (input: string, init: RequestInit) => Promise<Response>;

/** Runs `run` after `delayMs`; returns a function that cancels it. */
export type Scheduler = (run: () => void, delayMs: number) => () => void;

/** A request body the client can send again on every reconnect (streams cannot be replayed). */
export type ReplayableBody = string | URLSearchParams | FormData | Blob | ArrayBuffer | Uint8Array;

/** Options shared by the EventSource-compatible class and `subscribe()`. */
export interface ClientOptions {
  /** Send cookies cross-origin (fetch `credentials: 'include'`). Default false. */
  withCredentials?: boolean;
  /** Extra request headers; a function is called again before every connection (fresh tokens). */
  headers?: HeadersInit | (() => HeadersInit);
  /** Default `GET`. */
  method?: string;
  body?: ReplayableBody;
  /** Default the global `fetch`. */
  fetch?: FetchLike;
  /** Resume from this id: sent as `Last-Event-ID` on the first connection too. */
  lastEventId?: string;
  /** Base reconnect delay until the server sends `retry:`. Default 3000 ms (as browsers). */
  initialDelayMs?: number;
  /**
   * Upper bound of any back-off delay (a larger server `retry:` is clamped too). Default 30 000 ms:
   * an outage of any length costs a client at most half a minute, while a reconnect storm still
   * spreads over that window.
   */
  maxDelayMs?: number;
  /**
   * Longest `Retry-After` honoured. Default 600 000 ms: a server may ask for minutes, but a typo
   * or a hostile proxy must not park a client for days.
   */
  maxRetryAfterMs?: number;
  /** Replaces the delay policy; return null to stop reconnecting (the error becomes final). */
  retryDelay?: (attempt: number, info: RetryInfo) => number | null;
  /**
   * Reconnect when no byte (event or heartbeat comment) arrived for this long. 0 = off. Default 0
   * for plain streams (a server may stay quiet indefinitely, and EventSource never times out);
   * the Mercure helpers default to 60 000 since hubs send heartbeats.
   */
  heartbeatTimeoutMs?: number;
  /** In browsers, close while the page is hidden and resume (with Last-Event-ID) when shown. */
  pauseWhenHidden?: boolean;
  /** Longest line or event data, in characters. Default the parser's (4 Mi). */
  maxEventSize?: number;
  /**
   * Most bytes of an error response body kept for the error. Default 16 KiB: enough for any
   * useful message, and a huge error page cannot fill memory.
   */
  maxErrorBodyBytes?: number;
  /** Source of jitter, in [0, 1). Default Math.random; inject a fixed sequence in tests. */
  random?: () => number;
  /** Waits out reconnect delays. Default setTimeout; inject to observe or skip the schedule. */
  schedule?: Scheduler;
}
