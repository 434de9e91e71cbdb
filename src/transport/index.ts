export { hasHealth, hasPresence } from './capabilities.js';
export type { RetentionOptions } from './common.js';
export {
  createMemoryTransport,
  DEFAULT_MEMORY_MAX_HISTORY,
  MemoryTransport,
  type MemoryTransportOptions,
} from './memory.js';
export {
  createRedisTransport,
  DEFAULT_BLOCK_MS,
  DEFAULT_COMMAND_TIMEOUT_MS,
  DEFAULT_CONNECT_TIMEOUT_MS,
  DEFAULT_FEED_WINDOW,
  DEFAULT_KEY_PREFIX,
  DEFAULT_MAX_PRESENCE_LISTING,
  DEFAULT_PRESENCE_TTL_MS,
  DEFAULT_READ_COUNT,
  DEFAULT_REDIS_MAX_HISTORY,
  DEFAULT_REDIS_TRIM_BATCH_SIZE,
  type RedisConnectionOptions,
  RedisTransport,
  type RedisTransportOptions,
} from './redis/index.js';
export {
  createSqliteTransport,
  DEFAULT_BUSY_TIMEOUT_MS,
  DEFAULT_SQLITE_MAX_HISTORY,
  DEFAULT_TRIM_BATCH_SIZE,
  DEFAULT_TRIM_INTERVAL_MS,
  SqliteTransport,
  type SqliteTransportOptions,
} from './sqlite.js';
export type {
  FeedGap,
  GapListener,
  HealthReport,
  HistoryBounds,
  Presence,
  PresenceEntry,
  ReplayOptions,
  ReplayResult,
  StoredUpdate,
  Transport,
  TransportHealth,
  Update,
  UpdateListener,
} from './types.js';
export {
  type CreateTransportOptions,
  createTransport,
  parseTransportUrl,
  type TransportSpec,
} from './url.js';
