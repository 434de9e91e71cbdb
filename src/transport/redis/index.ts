export {
  DEFAULT_BLOCK_MS,
  DEFAULT_COMMAND_TIMEOUT_MS,
  DEFAULT_CONNECT_TIMEOUT_MS,
  DEFAULT_FEED_WINDOW,
  DEFAULT_KEY_PREFIX,
  DEFAULT_MAX_PRESENCE_LISTING,
  DEFAULT_PRESENCE_TTL_MS,
  DEFAULT_READ_COUNT,
  DEFAULT_REDIS_MAX_HISTORY,
  DEFAULT_TRIM_BATCH_SIZE as DEFAULT_REDIS_TRIM_BATCH_SIZE,
  type RedisConnectionOptions,
  type RedisTransportOptions,
} from './options.js';
export { createRedisTransport, RedisTransport } from './redis-transport.js';
