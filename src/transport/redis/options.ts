import { SseHubError } from '../../errors.js';
import { type ResolvedRetention, type RetentionOptions, resolveRetention } from '../common.js';

/**
 * Default count bound of the Redis transport. History lives in Redis memory (and its
 * persistence files); 10 000 updates stay around 10 MB at a typical 1 KB per update.
 */
export const DEFAULT_REDIS_MAX_HISTORY = 10_000;
/** Every key the transport writes starts with this, so several hubs can share one Redis. */
export const DEFAULT_KEY_PREFIX = 'ssehub:';
/**
 * A command (publish, read, health check) not answered within this many ms fails (publish:
 * TRANSPORT_FAILURE, others: TRANSPORT_UNAVAILABLE) instead of waiting: a publish is never left
 * hanging on a dead server.
 */
export const DEFAULT_COMMAND_TIMEOUT_MS = 2000;
/** How long the first connection may take before `createRedisTransport` gives up. */
export const DEFAULT_CONNECT_TIMEOUT_MS = 5000;
/**
 * How long the live feed's XREAD blocks before it looks again (and checks the epoch). Short
 * enough that a store that lost data is noticed within about this time even without a reconnect.
 */
export const DEFAULT_BLOCK_MS = 1000;
/** Entries the live feed reads per XREAD. */
export const DEFAULT_READ_COUNT = 256;
/**
 * Entries one publish may trim at most. Count-based trimming removes one per publish in steady
 * state; the bound keeps a publish cheap after a large age-based expiry (reads finish the job).
 */
export const DEFAULT_TRIM_BATCH_SIZE = 256;
/**
 * The stream keeps at least this many newest entries, whatever `maxHistory` says, so other nodes'
 * live feeds can read a burst of publishes before it is trimmed (entries past `maxHistory` are
 * hidden from reads). A feed that falls more than this far behind, or past the age bound,
 * reports a `lagged` gap.
 */
export const DEFAULT_FEED_WINDOW = 1000;
/**
 * A subscriptions listing returns at most this many entries (cut short past it), so one listing
 * never copies an unbounded number of entries out of Redis and into memory.
 */
export const DEFAULT_MAX_PRESENCE_LISTING = 10_000;
/** Presence entries of a node that stops refreshing them disappear within this many ms. */
export const DEFAULT_PRESENCE_TTL_MS = 30_000;

/** Where and how to connect; what `redis://` / `rediss://` URLs carry. */
export interface RedisConnectionOptions {
  host?: string;
  port?: number;
  username?: string;
  /** Never logged, never part of an error message. */
  password?: string;
  db?: number;
  /** Connect with TLS (`rediss://`). `true` uses Node's defaults (system CAs, SNI from host). */
  tls?: boolean;
}

export interface RedisTransportOptions extends RetentionOptions, RedisConnectionOptions {
  /** See {@link DEFAULT_KEY_PREFIX}. One Redis server only: Redis Cluster is not supported. */
  keyPrefix?: string;
  /** See {@link DEFAULT_COMMAND_TIMEOUT_MS}. */
  commandTimeoutMs?: number;
  /** See {@link DEFAULT_CONNECT_TIMEOUT_MS}. */
  connectTimeoutMs?: number;
  /** See {@link DEFAULT_BLOCK_MS}. */
  blockMs?: number;
  /** See {@link DEFAULT_READ_COUNT}. */
  readCount?: number;
  /** See {@link DEFAULT_TRIM_BATCH_SIZE}. */
  trimBatchSize?: number;
  /** See {@link DEFAULT_FEED_WINDOW}. */
  feedWindow?: number;
  /** See {@link DEFAULT_PRESENCE_TTL_MS}. Entries are refreshed every third of it. */
  presenceTtlMs?: number;
  /** See {@link DEFAULT_MAX_PRESENCE_LISTING}. */
  maxPresenceListing?: number;
  /** Receives what a listener threw, and feed errors worth seeing. Default: `process.emitWarning`. */
  onError?: (err: unknown) => void;
}

export interface ResolvedRedisOptions {
  connection: Required<Pick<RedisConnectionOptions, 'host' | 'port' | 'db' | 'tls'>> &
    Pick<RedisConnectionOptions, 'username' | 'password'>;
  retention: ResolvedRetention;
  keyPrefix: string;
  commandTimeoutMs: number;
  connectTimeoutMs: number;
  blockMs: number;
  readCount: number;
  trimBatchSize: number;
  feedWindow: number;
  presenceTtlMs: number;
  maxPresenceListing: number;
}

/** Checks every option and fills in defaults; throws INVALID_OPTION (never echoing a password). */
export function resolveRedisOptions(options: RedisTransportOptions): ResolvedRedisOptions {
  const keyPrefix = options.keyPrefix ?? DEFAULT_KEY_PREFIX;
  if (typeof keyPrefix !== 'string') {
    throw new SseHubError('INVALID_OPTION', 'keyPrefix must be a string');
  }
  const port = options.port ?? 6379;
  if (!(Number.isInteger(port) && port > 0 && port < 65536)) {
    throw new SseHubError('INVALID_OPTION', `port must be an integer 1..65535, got ${port}`);
  }
  const db = options.db ?? 0;
  if (!(Number.isInteger(db) && db >= 0)) {
    throw new SseHubError('INVALID_OPTION', `db must be an integer >= 0, got ${db}`);
  }
  const connection: ResolvedRedisOptions['connection'] = {
    host: options.host ?? '127.0.0.1',
    port,
    db,
    tls: options.tls ?? false,
  };
  if (options.username !== undefined) connection.username = options.username;
  if (options.password !== undefined) connection.password = options.password;
  return {
    connection,
    retention: resolveRetention(options, DEFAULT_REDIS_MAX_HISTORY),
    keyPrefix,
    commandTimeoutMs: positive(
      'commandTimeoutMs',
      options.commandTimeoutMs,
      DEFAULT_COMMAND_TIMEOUT_MS,
    ),
    connectTimeoutMs: positive(
      'connectTimeoutMs',
      options.connectTimeoutMs,
      DEFAULT_CONNECT_TIMEOUT_MS,
    ),
    blockMs: positive('blockMs', options.blockMs, DEFAULT_BLOCK_MS),
    readCount: positive('readCount', options.readCount, DEFAULT_READ_COUNT),
    trimBatchSize: positive('trimBatchSize', options.trimBatchSize, DEFAULT_TRIM_BATCH_SIZE),
    feedWindow: positive('feedWindow', options.feedWindow, DEFAULT_FEED_WINDOW),
    presenceTtlMs: positive('presenceTtlMs', options.presenceTtlMs, DEFAULT_PRESENCE_TTL_MS),
    maxPresenceListing: positive(
      'maxPresenceListing',
      options.maxPresenceListing,
      DEFAULT_MAX_PRESENCE_LISTING,
    ),
  };
}

function positive(name: string, value: number | undefined, fallback: number): number {
  const n = value ?? fallback;
  if (!(Number.isInteger(n) && n >= 1)) {
    throw new SseHubError('INVALID_OPTION', `${name} must be an integer >= 1, got ${n}`);
  }
  return n;
}

/** The names of every key under the prefix (see docs/redis.md, "Key layout"). */
export interface RedisKeys {
  /** The stream of updates; entry id `<position>-0`. */
  stream: string;
  /** The last issued position (INCR). */
  seq: string;
  /** Hash: epoch id and the position the epoch started after. */
  meta: string;
  /** Hash: update id → entry ids of its occurrences in the stream, oldest first (see scripts.ts). */
  index: string;
  /** Sorted set: node id → presence expiry (Redis server time, ms). */
  nodes: string;
  /** Prefix of each node's presence hash (`<prefix>presence:<node id>`). */
  presence: string;
}

export function redisKeys(prefix: string): RedisKeys {
  return {
    stream: `${prefix}stream`,
    seq: `${prefix}seq`,
    meta: `${prefix}meta`,
    index: `${prefix}index`,
    nodes: `${prefix}nodes`,
    presence: `${prefix}presence:`,
  };
}
