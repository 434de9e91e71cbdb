import type { Redis } from 'ioredis';
import type { PresenceEntry } from '../types.js';
import type { RedisKeys } from './options.js';
import type { ScriptCaller } from './script-caller.js';

/** Field/value pairs per HSET, well below Lua's unpack limit. */
const CHUNK = 500;
/** Fields one HSCAN step asks for when listing, so one command never holds Redis long. */
const SCAN_COUNT = 500;

/**
 * Cluster-wide presence: this node's entries live in one hash (`<prefix>presence:<node id>`) with
 * a TTL, and the node is listed in a sorted set scored by when it expires (Redis's clock). A timer
 * refreshes both while the node lives, so a node that dies (or stalls past the TTL) drops out of
 * every listing within the TTL, and its hash expires on its own. Listings skip expired nodes.
 * A write that fails (Redis away) leaves the hash unknown: the next refresh rewrites it whole from
 * what this node holds, so a removal or addition that failed is not lost for good.
 */
export class RedisPresence {
  readonly #redis: Redis;
  readonly #call: ScriptCaller;
  readonly #keys: RedisKeys;
  readonly #node: string;
  readonly #ttlMs: number;
  readonly #maxListing: number;
  readonly #onError: (err: unknown) => void;
  // This node's entries, so they can be written again if the store lost them.
  readonly #mine = new Map<string, string>();
  // A write failed since the last rewrite: the hash may not match #mine.
  #dirty = false;
  #timer: NodeJS.Timeout | undefined;

  constructor(
    redis: Redis,
    call: ScriptCaller,
    keys: RedisKeys,
    node: string,
    ttlMs: number,
    maxListing: number,
    onError: (err: unknown) => void,
  ) {
    this.#maxListing = maxListing;
    this.#redis = redis;
    this.#call = call;
    this.#keys = keys;
    this.#node = node;
    this.#ttlMs = ttlMs;
    this.#onError = onError;
  }

  get #hash(): string {
    return `${this.#keys.presence}${this.#node}`;
  }

  /** Refreshes this node's entries every third of the TTL, so two refreshes may fail in a row. */
  start(): void {
    if (this.#timer !== undefined) return;
    this.#timer = setInterval(
      () => {
        this.#refresh().catch(this.#onError);
      },
      Math.max(1, Math.floor(this.#ttlMs / 3)),
    );
    this.#timer.unref();
  }

  /** Stops refreshing, as a node that died would. @internal */
  stopRefreshing(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  async add(entries: readonly PresenceEntry[]): Promise<void> {
    const pairs: string[] = [];
    for (const entry of entries) {
      const value = JSON.stringify([entry.key, entry.group, entry.value]);
      this.#mine.set(entry.key, value);
      pairs.push(entry.key, value);
    }
    await this.#marking(() => this.#write(pairs));
  }

  async remove(keys: readonly string[]): Promise<void> {
    for (const key of keys) this.#mine.delete(key);
    await this.#marking(async () => {
      for (let i = 0; i < keys.length; i += CHUNK) {
        await this.#redis.hdel(this.#hash, ...keys.slice(i, i + CHUNK));
      }
    });
  }

  /**
   * Every live node's entries (of `group`), at most `maxListing` of them: each node's hash is
   * read in HSCAN pages, so no single command's work grows with the number of subscriptions.
   * Past the cap the listing is cut short (which entries it holds then is unspecified).
   */
  async list(group?: string): Promise<PresenceEntry[]> {
    const out: PresenceEntry[] = [];
    for (const node of await this.#liveNodes()) {
      const hash = `${this.#keys.presence}${node}`;
      // HSCAN may return a field twice (while the hash is rehashed).
      const seen = new Set<string>();
      let cursor = '0';
      do {
        const [next, pairs] = await this.#redis.hscan(hash, cursor, 'COUNT', SCAN_COUNT);
        cursor = next;
        for (let i = 0; i + 1 < pairs.length; i += 2) {
          if (seen.has(pairs[i]!)) continue;
          seen.add(pairs[i]!);
          const entry = parse(pairs[i + 1]!);
          if (entry === undefined || (group !== undefined && entry.group !== group)) continue;
          out.push(entry);
          if (out.length >= this.#maxListing) return out;
        }
      } while (cursor !== '0');
    }
    return out;
  }

  async get(key: string): Promise<PresenceEntry | undefined> {
    const nodes = await this.#liveNodes();
    const values = await Promise.all(
      nodes.map((node) => this.#redis.hget(`${this.#keys.presence}${node}`, key)),
    );
    const value = values.find((v) => v !== null);
    return value === undefined || value === null ? undefined : parse(value);
  }

  async #liveNodes(): Promise<string[]> {
    return (await this.#call('presenceNodes', [this.#keys.nodes], [])) as string[];
  }

  /** Stops refreshing and removes this node's entries at once (a graceful shutdown). */
  async close(): Promise<void> {
    this.stopRefreshing();
    this.#mine.clear();
    await this.#redis.multi().del(this.#hash).zrem(this.#keys.nodes, this.#node).exec();
  }

  async #refresh(): Promise<void> {
    if (this.#dirty) {
      await this.#rewrite();
      return;
    }
    if (this.#mine.size === 0) return;
    const alive = await this.#marking(() =>
      this.#call(
        'presenceRefresh',
        [this.#keys.nodes, this.#hash],
        [String(this.#ttlMs), this.#node],
      ),
    );
    // The hash is gone (the store restarted or evicted it): write this node's entries again.
    if (alive === 0) await this.#rewrite();
  }

  /** Replaces the hash with #mine in one script; a write issued later lands after it. */
  async #rewrite(): Promise<void> {
    this.#dirty = false;
    await this.#marking(() =>
      this.#call(
        'presenceRewrite',
        [this.#keys.nodes, this.#hash],
        [String(this.#ttlMs), this.#node, ...[...this.#mine].flat()],
      ),
    );
  }

  /** Runs a write; if it fails, the next refresh rewrites the hash. */
  async #marking<T>(write: () => Promise<T>): Promise<T> {
    try {
      return await write();
    } catch (err) {
      this.#dirty = true;
      throw err;
    }
  }

  async #write(pairs: readonly string[]): Promise<void> {
    let i = 0;
    do {
      await this.#call(
        'presenceAdd',
        [this.#keys.nodes, this.#hash],
        [String(this.#ttlMs), this.#node, ...pairs.slice(i, i + 2 * CHUNK)],
      );
      i += 2 * CHUNK;
    } while (i < pairs.length);
  }
}

function parse(value: string): PresenceEntry | undefined {
  try {
    const [key, group, entry] = JSON.parse(value) as [string, string, string];
    return { key, group, value: entry };
  } catch {
    return undefined; // not written by this transport: skip it rather than fail a listing
  }
}
