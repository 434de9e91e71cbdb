import { isIP } from 'node:net';
import type { Redis, RedisOptions } from 'ioredis';
import { SseHubError } from '../../errors.js';
import type { ResolvedRedisOptions } from './options.js';

/**
 * A connection that never queues a command while disconnected (`enableOfflineQueue: false`)
 * and gives up on one that gets no answer within the command timeout, so a caller always learns
 * the outcome in bounded time. It reconnects on its own with a capped back-off.
 */
export async function openConnection(
  options: ResolvedRedisOptions,
  role: 'commands' | 'feed',
  extraTimeoutMs = 0,
): Promise<Redis> {
  // Loaded on first use, so hubs on other transports never pay for loading the client.
  const { Redis } = await import('ioredis');
  const { connection } = options;
  const redisOptions: RedisOptions = {
    host: connection.host,
    port: connection.port,
    db: connection.db,
    connectionName: `ssehub-${role}`,
    lazyConnect: true,
    enableOfflineQueue: false,
    // A command in flight when the connection drops fails instead of being sent again: a
    // publish must not be stored twice, and its caller must hear about it.
    autoResendUnfulfilledCommands: false,
    maxRetriesPerRequest: 0,
    commandTimeout: options.commandTimeoutMs + extraTimeoutMs,
    connectTimeout: options.connectTimeoutMs,
    retryStrategy: (times) => Math.min(50 * 2 ** Math.min(times, 6), 2000),
    // Commands issued in one loop turn (concurrent publishes, a replay storm's reads) leave in
    // one write: each socket write to Redis costs a system call and a wake-up of Redis. The feed
    // connection sends one blocking XREAD at a time, which batching could only delay.
    enableAutoPipelining: role === 'commands',
  };
  if (connection.username !== undefined) redisOptions.username = connection.username;
  if (connection.password !== undefined) redisOptions.password = connection.password;
  // SNI takes a host name only; for an address, Node checks the certificate against it anyway.
  if (connection.tls)
    redisOptions.tls = isIP(connection.host) ? {} : { servername: connection.host };
  const redis = new Redis(redisOptions);
  // Without a listener ioredis prints every connection error; callers see failures as
  // rejected commands, and health() reports the state.
  redis.on('error', () => {});
  return redis;
}

/** Resolves once `redis` is ready; rejects TRANSPORT_UNAVAILABLE after `timeoutMs`. */
export async function connect(
  redis: Redis,
  timeoutMs: number,
  password: string | undefined,
): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      redis.connect(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`no connection within ${timeoutMs} ms`)),
          timeoutMs,
        );
      }),
    ]);
  } catch (err) {
    throw toFailure(err, 'cannot connect to redis', password);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * TRANSPORT_FAILURE (a publish) or TRANSPORT_UNAVAILABLE (anything else) for a Redis error. The detail keeps the error's message only, with the
 * password cut out should it ever appear; the error object itself is not attached as `cause`
 * because ioredis puts the failed command's arguments on it (AUTH's include the password).
 */
export function toFailure(
  err: unknown,
  what: string,
  password: string | undefined,
  code: 'TRANSPORT_FAILURE' | 'TRANSPORT_UNAVAILABLE' = 'TRANSPORT_UNAVAILABLE',
): SseHubError {
  if (err instanceof SseHubError) return err;
  let message = err instanceof Error ? err.message : String(err);
  // What ioredis says of a command in flight when the connection dropped (no retries, by design).
  if (message.startsWith('Reached the max retries per request limit')) message = 'connection lost';
  if (password) message = message.split(password).join('***');
  return new SseHubError(code, `${what}: ${message}`);
}
