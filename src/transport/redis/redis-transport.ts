import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { SseHubError } from '../../errors.js';
import { freezeUpdate, replayLimit, warnListenerError } from '../common.js';
import { Fanout } from '../fanout.js';
import type {
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
} from '../types.js';
import { decodeEntry, encodePayload, type RawEntry } from './codec.js';
import { connect, openConnection, toFailure } from './connection.js';
import { type CheckedMeta, Feed, type StoreMeta } from './feed.js';
import {
  type RedisKeys,
  type RedisTransportOptions,
  type ResolvedRedisOptions,
  redisKeys,
  resolveRedisOptions,
} from './options.js';
import { RedisPresence } from './presence.js';
import { defineScripts, type ScriptCaller } from './script-caller.js';

/** Updates per page when `replay` walks the history. */
const REPLAY_PAGE = 500;
/** A read whose trim is still not done after this many calls fails rather than loop forever. */
const MAX_TRIM_ROUNDS = 10_000;

type ViewReply = [string, number, number, number, ...unknown[]];

/**
 * History and cross-node fan-out in Redis Streams, for hubs on many processes or machines.
 *
 * One stream holds every update; a Lua script checks the id is new, takes the next position from
 * a counter and appends the entry `<position>-0`, so positions are one total order across nodes.
 * Each transport reads the stream with its own blocking connection and delivers every entry to
 * its listeners once, in order. History is trimmed exactly (count and age bounds) with the index
 * of ids. A random epoch kept in Redis tells when the store lost data. Presence is shared by
 * every node. See docs/redis.md.
 */
export class RedisTransport implements Transport, TransportHealth, Presence {
  readonly #o: ResolvedRedisOptions;
  readonly #keys: RedisKeys;
  readonly #redis: Redis;
  readonly #blocking: Redis;
  readonly #call: ScriptCaller;
  readonly #fanout: Fanout;
  readonly #feed: Feed;
  readonly #presence: RedisPresence;
  #closed = false;

  /** Use {@link createRedisTransport}, which connects first. @internal */
  constructor(
    options: ResolvedRedisOptions,
    redis: Redis,
    blocking: Redis,
    meta: StoreMeta,
    onError: (err: unknown) => void,
  ) {
    this.#o = options;
    this.#keys = redisKeys(options.keyPrefix);
    this.#redis = redis;
    this.#blocking = blocking;
    this.#call = defineScripts(redis);
    const blockingCall = defineScripts(blocking);
    this.#fanout = new Fanout(onError);
    this.#feed = new Feed(
      {
        blocking,
        stream: this.#keys.stream,
        blockMs: options.blockMs,
        readCount: options.readCount,
        fanout: this.#fanout,
        meta: async (from, to) =>
          toCheckedMeta(
            (await blockingCall(
              'view',
              this.#historyKeys(),
              this.#args('meta', String(from), String(to)),
            )) as ViewReply,
          ),
        rotate: async (epoch) => {
          const [e, start, newest] = (await this.#call('rotate', this.#historyKeys(), [
            randomUUID(),
            epoch,
          ])) as [string, number, number];
          return { epoch: e, start, newest };
        },
        range: async (from, to, count) =>
          (await redis.xrange(this.#keys.stream, from, to, 'COUNT', count)) as RawEntry[],
        onError: (err) => onError(this.#failure(err, 'live feed')),
      },
      meta,
    );
    this.#presence = new RedisPresence(
      redis,
      this.#call,
      this.#keys,
      randomUUID(),
      options.presenceTtlMs,
      options.maxPresenceListing,
      (err) => onError(this.#failure(err, 'presence refresh')),
    );
    this.#feed.start();
    this.#presence.start();
  }

  async publish(update: Update): Promise<void> {
    this.#assertOpen();
    const stored = freezeUpdate(update);
    const at = this.#o.retention.now();
    let reply: [number, number, string, number];
    try {
      reply = (await this.#call(
        'publish',
        this.#historyKeys(),
        this.#args(stored.id, String(at), encodePayload(stored)),
      )) as [number, number, string, number];
    } catch (err) {
      throw this.#failure(err, 'publish failed', 'TRANSPORT_FAILURE');
    }
    const [, position, epoch, start] = reply;
    await this.#feed.offer({ epoch, start }, { position, update: stored });
  }

  subscribe(listener: UpdateListener, onGap?: GapListener): () => void {
    if (this.#closed) return () => {};
    const off = this.#fanout.subscribe(listener);
    const offGap = onGap === undefined ? () => {} : this.#feed.onGap(onGap);
    return () => {
      off();
      offGap();
    };
  }

  async replay(afterId: string, options?: ReplayOptions): Promise<ReplayResult> {
    this.#assertOpen();
    const limit = replayLimit(options);
    const filter = options?.filter;
    let after = 0;
    let found = true;
    if (afterId !== 'earliest') {
      const position = await this.positionOf(afterId);
      if (position === undefined) found = false;
      else after = position;
    }
    const updates: Update[] = [];
    if (limit === 0) return { found, updates };
    let until = Number.MAX_SAFE_INTEGER;
    for (;;) {
      const { newest, entries } = await this.#read(after, until, REPLAY_PAGE);
      until = Math.min(until, newest); // one snapshot: nothing published meanwhile
      for (const { update } of entries) {
        if (filter && !filter(update)) continue;
        updates.push(update);
        if (updates.length > limit) updates.shift();
      }
      if (entries.length < REPLAY_PAGE) break;
      after = entries.at(-1)!.position;
    }
    return { found, updates };
  }

  async positionOf(id: string): Promise<number | undefined> {
    this.#assertOpen();
    const reply = await this.#view('position', id);
    const position = reply[4] as number;
    return position === -1 ? undefined : position;
  }

  async bounds(): Promise<HistoryBounds> {
    this.#assertOpen();
    const [epoch, , oldest, newest] = await this.#view('bounds');
    return { oldest, newest, epoch };
  }

  async read(after: number, until: number, limit: number): Promise<StoredUpdate[]> {
    this.#assertOpen();
    return (await this.#read(after, until, limit)).entries;
  }

  async lastId(): Promise<string | undefined> {
    this.#assertOpen();
    const reply = await this.#view('last');
    return reply[4] === 1 ? (reply[5] as string) : undefined;
  }

  /** `{ ok: false, reason: 'redis unreachable' }` within the command timeout when Redis is down. */
  async health(): Promise<HealthReport> {
    if (this.#closed) return { ok: false, reason: 'transport closed' };
    if (this.#redis.status !== 'ready') return { ok: false, reason: 'redis unreachable' };
    if (this.#blocking.status !== 'ready') return { ok: false, reason: 'redis feed disconnected' };
    try {
      await this.#redis.ping();
      return { ok: true };
    } catch {
      return { ok: false, reason: 'redis unreachable' };
    }
  }

  async addPresence(entries: readonly PresenceEntry[]): Promise<void> {
    this.#assertOpen();
    if (entries.length === 0) return;
    try {
      await this.#presence.add(entries);
    } catch (err) {
      throw this.#failure(err, 'presence add failed');
    }
  }

  async removePresence(keys: readonly string[]): Promise<void> {
    this.#assertOpen();
    if (keys.length === 0) return;
    try {
      await this.#presence.remove(keys);
    } catch (err) {
      throw this.#failure(err, 'presence remove failed');
    }
  }

  async listPresence(group?: string): Promise<PresenceEntry[]> {
    this.#assertOpen();
    try {
      return await this.#presence.list(group);
    } catch (err) {
      throw this.#failure(err, 'presence list failed');
    }
  }

  async getPresence(key: string): Promise<PresenceEntry | undefined> {
    this.#assertOpen();
    try {
      return await this.#presence.get(key);
    } catch (err) {
      throw this.#failure(err, 'presence get failed');
    }
  }

  /**
   * Stops this node's live reader until the returned function is called, as a stalled process
   * would; updates published meanwhile wait in the stream. For tests. @internal
   */
  pauseFeed(): () => void {
    return this.#feed.pause();
  }

  /** Stops refreshing this node's presence, as a node that died would. For tests. @internal */
  stopPresenceRefresh(): void {
    this.#presence.stopRefreshing();
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#fanout.close();
    // Cuts the feed's waiting XREAD short; the loop sees it stopped and ends.
    this.#blocking.disconnect();
    await this.#feed.stop();
    try {
      await this.#presence.close();
    } catch {
      // Redis is away: this node's entries expire within the presence TTL instead.
    }
    try {
      await this.#redis.quit();
    } catch {
      this.#redis.disconnect();
    }
  }

  #assertOpen(): void {
    if (this.#closed) throw new SseHubError('TRANSPORT_CLOSED');
  }

  #historyKeys(): string[] {
    const k = this.#keys;
    return [k.stream, k.seq, k.meta, k.index];
  }

  /** ARGV of a history script: a fresh epoch id, the retention now, then `rest`. */
  #args(...rest: string[]): string[] {
    const { maxHistory, maxHistoryAgeMs, now } = this.#o.retention;
    return [
      randomUUID(),
      maxHistory === Number.POSITIVE_INFINITY ? '-1' : String(maxHistory),
      maxHistoryAgeMs === Number.POSITIVE_INFINITY ? '-1' : String(now() - maxHistoryAgeMs),
      String(this.#o.trimBatchSize),
      String(this.#o.feedWindow),
      ...rest,
    ];
  }

  async #view(op: string, ...rest: string[]): Promise<ViewReply> {
    for (let round = 0; round < MAX_TRIM_ROUNDS; round++) {
      let reply: ViewReply | ['more'];
      try {
        reply = (await this.#call('view', this.#historyKeys(), this.#args(op, ...rest))) as
          | ViewReply
          | ['more'];
      } catch (err) {
        throw this.#failure(err, `${op} failed`);
      }
      if (reply[0] === 'more') continue;
      const view = reply as ViewReply;
      this.#feed.notice(view[0], view[1]);
      return view;
    }
    throw new SseHubError('TRANSPORT_UNAVAILABLE', 'redis history trim did not finish');
  }

  async #read(
    after: number,
    until: number,
    limit: number,
  ): Promise<{ newest: number; entries: StoredUpdate[] }> {
    if (!(Number.isInteger(limit) && limit >= 0)) {
      throw new SseHubError('INVALID_OPTION', `read limit must be an integer >= 0, got ${limit}`);
    }
    const reply = await this.#view(
      'read',
      String(Math.max(0, Math.floor(after))),
      String(Math.min(Number.MAX_SAFE_INTEGER, Math.floor(until))),
      String(limit),
    );
    return { newest: reply[3], entries: (reply[4] as RawEntry[]).map(decodeEntry) };
  }

  #failure(
    err: unknown,
    what: string,
    code: 'TRANSPORT_FAILURE' | 'TRANSPORT_UNAVAILABLE' = 'TRANSPORT_UNAVAILABLE',
  ): SseHubError {
    if (this.#closed && !(err instanceof SseHubError)) return new SseHubError('TRANSPORT_CLOSED');
    return toFailure(err, `redis ${what}`, this.#o.connection.password, code);
  }
}

function toMeta(reply: ViewReply): StoreMeta {
  return { epoch: reply[0], start: reply[1], newest: reply[3] };
}

function toCheckedMeta(reply: ViewReply): CheckedMeta {
  const meta: CheckedMeta = toMeta(reply);
  if (reply.length > 4) {
    const pairs = reply[5] as (number | string)[];
    const ids = new Map<number, string>();
    for (let i = 0; i + 1 < pairs.length; i += 2) ids.set(Number(pairs[i]), String(pairs[i + 1]));
    meta.held = { oldest: reply[4] as number, ids };
  }
  return meta;
}

/**
 * Connects to Redis (two connections: commands, and the live feed's blocking reads), makes sure
 * the store has an epoch and starts the feed. Rejects TRANSPORT_FAILURE when Redis cannot be
 * reached within `connectTimeoutMs` (TRANSPORT_UNAVAILABLE), INVALID_OPTION on a bad option.
 */
export async function createRedisTransport(
  options: RedisTransportOptions = {},
): Promise<RedisTransport> {
  const resolved = resolveRedisOptions(options);
  const onError = options.onError ?? warnListenerError;
  const redis = await openConnection(resolved, 'commands');
  // The feed's XREAD blocks up to blockMs by design; the timeout only catches a dead server.
  const blocking = await openConnection(resolved, 'feed', resolved.blockMs);
  try {
    await Promise.all([
      connect(redis, resolved.connectTimeoutMs, resolved.connection.password),
      connect(blocking, resolved.connectTimeoutMs, resolved.connection.password),
    ]);
    const call = defineScripts(redis);
    const k = redisKeys(resolved.keyPrefix);
    const reply = (await call(
      'view',
      [k.stream, k.seq, k.meta, k.index],
      [randomUUID(), '-1', '-1', '1', '1', 'meta'],
    )) as ViewReply;
    return new RedisTransport(resolved, redis, blocking, toMeta(reply), onError);
  } catch (err) {
    redis.disconnect();
    blocking.disconnect();
    throw toFailure(err, 'redis', resolved.connection.password);
  }
}
