import { readFileSync } from 'node:fs';
import { SseHubError } from '../errors.js';
import type { ServerOptions } from './options.js';

/**
 * Most client connections at once when none is configured (and the open-file limit allows it).
 * Each open event stream costs a socket, a file descriptor and some memory; 10 000 is far above
 * what one browser-facing node usually carries and still leaves the process headroom to answer
 * health checks and publishes.
 */
export const DEFAULT_MAX_CONNECTIONS = 10_000;

/**
 * File descriptors kept back from client connections: the listening socket, stdio, the SQLite
 * database and its WAL, DNS and JWKS fetches, refused connections while they get their 503.
 * Running out of descriptors makes the kernel refuse connections without a word in our log.
 */
export const FD_RESERVE = 256;

/**
 * Time a client has to send a request's headers. Node's default is 60 s; 10 s is ample for any
 * real client, even over a slow mobile link, and stops a header-slowloris holding a socket.
 */
export const DEFAULT_HEADERS_TIMEOUT_MS = 10_000;

/**
 * Time a client has to send a whole request, body included (a publish). Node's default is 300 s;
 * a publish body is at most `maxBodyBytes` (1 MiB by default), which takes seconds, not minutes.
 * Event streams are not affected: their request is complete once the headers are in.
 */
export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;

/**
 * How long an idle keep-alive connection stays open after its last response. Node's default for
 * node:http, and shorter than the 60 s idle timeout of common load balancers, so the server is
 * the side that closes (no request lost on a connection the balancer thinks is open).
 */
export const DEFAULT_KEEP_ALIVE_TIMEOUT_MS = 5_000;

/**
 * Most concurrent streams on one HTTP/2 connection (SETTINGS_MAX_CONCURRENT_STREAMS). Without it
 * Node advertises 2^32 − 1 and one connection carries any number of subscribers, so the
 * connection limit bounds nothing; 100 is RFC 9113's recommended minimum (nginx: 128), far more
 * than the EventSources of one browser's tabs, and bounds open streams to maxConnections × 100.
 */
export const DEFAULT_MAX_STREAMS_PER_CONNECTION = 100;

/** The largest value SETTINGS_MAX_CONCURRENT_STREAMS can carry: SETTINGS values are 32 bits. */
const MAX_SETTINGS_VALUE = 2 ** 32 - 1;

/** What `Retry-After` tells a client refused at the connection limit: past a reconnect storm. */
export const REFUSED_RETRY_AFTER_S = 5;

/** All the connection settings of a server, defaults applied and checked. */
export interface ConnectionLimits {
  maxConnections: number;
  headersTimeoutMs: number;
  requestTimeoutMs: number;
  keepAliveTimeoutMs: number;
  /** HTTP/2: most concurrent streams one connection may open (its SETTINGS_MAX_CONCURRENT_STREAMS). */
  maxStreamsPerConnection: number;
  /** The process's open-file soft limit, when known (Linux). */
  fdLimit: number | undefined;
  /** True when `maxConnections` was not set and the default was lowered to fit `fdLimit`. */
  lowered: boolean;
  /** True when a configured `maxConnections` plus {@link FD_RESERVE} exceeds `fdLimit`. */
  exceedsFdLimit: boolean;
}

/**
 * The soft "Max open files" limit from the text of `/proc/self/limits`; undefined when absent or
 * unlimited.
 */
export function parseOpenFilesLimit(limits: string): number | undefined {
  const match = /^Max open files\s+(\S+)/m.exec(limits);
  if (!match) return undefined;
  const soft = Number(match[1]);
  return Number.isSafeInteger(soft) && soft > 0 ? soft : undefined;
}

/** The process's open-file soft limit on Linux; undefined elsewhere or when unreadable. */
export function readOpenFilesLimit(): number | undefined {
  if (process.platform !== 'linux') return undefined;
  try {
    return parseOpenFilesLimit(readFileSync('/proc/self/limits', 'utf8'));
  } catch {
    return undefined;
  }
}

/**
 * How many connections to allow: the configured number, or {@link DEFAULT_MAX_CONNECTIONS}
 * lowered to `fdLimit - reserve` so that the server refuses with a 503 (and a log line) before
 * the kernel refuses silently. Pure, for tests.
 */
export function planConnections(
  requested: number | undefined,
  fdLimit: number | undefined,
  reserve: number = FD_RESERVE,
): Pick<ConnectionLimits, 'maxConnections' | 'lowered' | 'exceedsFdLimit'> {
  if (requested !== undefined) {
    return {
      maxConnections: requested,
      lowered: false,
      exceedsFdLimit: fdLimit !== undefined && requested + reserve > fdLimit,
    };
  }
  if (fdLimit === undefined || fdLimit - reserve >= DEFAULT_MAX_CONNECTIONS) {
    return { maxConnections: DEFAULT_MAX_CONNECTIONS, lowered: false, exceedsFdLimit: false };
  }
  // A tiny limit (a test sandbox) still gets a few connections rather than none.
  return { maxConnections: Math.max(16, fdLimit - reserve), lowered: true, exceedsFdLimit: false };
}

function positive(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!(Number.isSafeInteger(value) && value > 0)) {
    throw new SseHubError('INVALID_OPTION', `${name} must be a positive integer`);
  }
  return value;
}

/**
 * Checks the connection options of a server and applies their defaults: the one place they are
 * resolved. Throws INVALID_OPTION on a bad value.
 */
export function resolveConnectionLimits(
  options: Pick<
    ServerOptions,
    | 'maxConnections'
    | 'headersTimeoutMs'
    | 'requestTimeoutMs'
    | 'keepAliveTimeoutMs'
    | 'maxStreamsPerConnection'
  >,
  fdLimit: number | undefined = readOpenFilesLimit(),
): ConnectionLimits {
  const requested =
    options.maxConnections === undefined
      ? undefined
      : positive('maxConnections', options.maxConnections, DEFAULT_MAX_CONNECTIONS);
  const requestTimeoutMs = positive(
    'requestTimeoutMs',
    options.requestTimeoutMs,
    DEFAULT_REQUEST_TIMEOUT_MS,
  );
  // Node refuses a headers timeout above the request timeout; a lowered request timeout
  // lowers the default headers timeout with it.
  const headersTimeoutMs = positive(
    'headersTimeoutMs',
    options.headersTimeoutMs,
    Math.min(DEFAULT_HEADERS_TIMEOUT_MS, requestTimeoutMs),
  );
  if (headersTimeoutMs > requestTimeoutMs) {
    throw new SseHubError('INVALID_OPTION', 'headersTimeoutMs must not exceed requestTimeoutMs');
  }
  const keepAliveTimeoutMs = positive(
    'keepAliveTimeoutMs',
    options.keepAliveTimeoutMs,
    DEFAULT_KEEP_ALIVE_TIMEOUT_MS,
  );
  const maxStreamsPerConnection = positive(
    'maxStreamsPerConnection',
    options.maxStreamsPerConnection,
    DEFAULT_MAX_STREAMS_PER_CONNECTION,
  );
  if (maxStreamsPerConnection > MAX_SETTINGS_VALUE) {
    throw new SseHubError('INVALID_OPTION', 'maxStreamsPerConnection must be at most 2^32 - 1');
  }
  return {
    ...planConnections(requested, fdLimit),
    headersTimeoutMs,
    requestTimeoutMs,
    keepAliveTimeoutMs,
    maxStreamsPerConnection,
    fdLimit,
  };
}

/**
 * How often Node checks for requests past their headers or request timeout. Node's default is
 * 30 s, which would let a 10 s headers timeout fire up to 40 s late; a quarter of the shorter
 * timeout (at most 1 s) keeps them close to what was configured. The check only visits
 * connections that are receiving a request, not open streams, so it is cheap.
 */
export function connectionsCheckingInterval(limits: ConnectionLimits): number {
  return Math.max(10, Math.min(1000, Math.floor(limits.headersTimeoutMs / 4)));
}
