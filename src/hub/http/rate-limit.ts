/**
 * Most clients whose buckets are kept at once, per limit. A bucket lives only until it has
 * refilled (burst ÷ rate: 2 s with the defaults), so this is reached only by more than 10 000
 * distinct clients within that time; about 100 bytes each plus the key, about 1 MB in all.
 */
export const DEFAULT_MAX_RATE_LIMIT_CLIENTS = 10_000;

interface Bucket {
  tokens: number;
  /** When `tokens` was last brought up to date (ms). */
  at: number;
}

/**
 * Token buckets per client key: each key may take `rate` tokens a second on average and `burst`
 * at once. Memory is bounded:
 *
 * - A bucket untouched for `burst / rate` seconds is full again, which is the same as having no
 *   bucket: it is dropped. The map is kept in order of last use, so expired buckets sit at its
 *   front and each `take` sweeps them off in amortized O(1), without a timer.
 * - At most `maxClients` buckets are kept. A new key past it drops the least recently used
 *   bucket: that client starts again with a full burst. So an attacker rotating addresses or
 *   subjects can at worst win some other client one extra burst per eviction; it can neither grow
 *   the map nor get anybody refused who stayed within the limit.
 */
export class TokenBuckets {
  readonly #rate: number;
  readonly #burst: number;
  readonly #maxClients: number;
  readonly #fillMs: number;
  readonly #now: () => number;
  readonly #buckets = new Map<string, Bucket>();
  #evicted = 0;

  /** `rate` per second (> 0), `burst` (≥ 1) tokens at most; `now` in ms, for tests. */
  constructor(
    rate: number,
    burst: number,
    maxClients = DEFAULT_MAX_RATE_LIMIT_CLIENTS,
    now: () => number = Date.now,
  ) {
    this.#rate = rate;
    this.#burst = burst;
    this.#maxClients = maxClients;
    this.#fillMs = (burst / rate) * 1000;
    this.#now = now;
  }

  /** Buckets kept now. */
  get size(): number {
    return this.#buckets.size;
  }

  /** Buckets dropped at `maxClients` so far (before they had refilled). */
  get evicted(): number {
    return this.#evicted;
  }

  /**
   * Takes one token from `key`'s bucket: returns 0 when it had one, else the seconds (≥ 1) until
   * it will have one, for `Retry-After`. A refused attempt takes nothing.
   */
  take(key: string): number {
    const now = this.#now();
    this.#sweep(now);
    let bucket = this.#buckets.get(key);
    if (bucket === undefined) {
      if (this.#buckets.size >= this.#maxClients) this.#evictOldest();
      bucket = { tokens: this.#burst, at: now };
    } else {
      // Moved to the end: the map stays in order of last use.
      this.#buckets.delete(key);
      const refill = ((now - bucket.at) * this.#rate) / 1000;
      bucket.tokens = Math.min(this.#burst, bucket.tokens + Math.max(0, refill));
      bucket.at = now;
    }
    this.#buckets.set(key, bucket);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil((1 - bucket.tokens) / this.#rate));
  }

  /** Drops the buckets at the front that have refilled since their last use. */
  #sweep(now: number): void {
    for (const [key, bucket] of this.#buckets) {
      if (now - bucket.at < this.#fillMs) return;
      this.#buckets.delete(key);
    }
  }

  #evictOldest(): void {
    const oldest = this.#buckets.keys().next();
    if (oldest.done) return;
    this.#buckets.delete(oldest.value);
    this.#evicted += 1;
  }
}
