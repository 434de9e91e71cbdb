import type { Hub } from '../../hub/types.js';

/** One second of the hub's work, as the console charts it. */
export interface Sample {
  /** End of the second, ms since the epoch. */
  t: number;
  /** Updates accepted in that second. */
  publishes: number;
  /** Live deliveries (one update to one subscriber) in that second. */
  deliveries: number;
  /** Slow subscribers cut off (queue overflow) in that second. */
  cutOffs: number;
  /** Open subscriber streams at its end. */
  subscribers: number;
  /** Resident set size and V8 heap in use at its end, in bytes. */
  rss: number;
  heapUsed: number;
}

/** Seconds kept: five minutes. */
export const DEFAULT_SAMPLES = 300;
/** Sampling interval, in ms. */
export const SAMPLE_INTERVAL_MS = 1000;

type Totals = Pick<Hub['stats'], 'published' | 'deliveries' | 'cutOffs'>;

/**
 * A ring buffer of per-second samples of the hub's counters, fed by one unref'd timer (it never
 * keeps the process alive). A tick reads four numbers and `process.memoryUsage()`; nothing is
 * allocated per delivery.
 */
export class StatsSampler {
  readonly #hub: Pick<Hub, 'stats' | 'subscriberCount'>;
  readonly #ring: (Sample | undefined)[];
  #next = 0;
  #count = 0;
  #last: Totals;
  #timer: NodeJS.Timeout | undefined;

  constructor(hub: Pick<Hub, 'stats' | 'subscriberCount'>, size = DEFAULT_SAMPLES) {
    this.#hub = hub;
    this.#ring = new Array(size).fill(undefined);
    this.#last = this.#totals();
  }

  #totals(): Totals {
    const { published, deliveries, cutOffs } = this.#hub.stats;
    return { published, deliveries, cutOffs };
  }

  start(intervalMs = SAMPLE_INTERVAL_MS): void {
    if (this.#timer !== undefined) return;
    this.#timer = setInterval(() => this.sample(), intervalMs);
    this.#timer.unref();
  }

  stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** Takes one sample now (the timer calls it every second). */
  sample(now = Date.now()): Sample {
    const totals = this.#totals();
    const memory = process.memoryUsage();
    const sample: Sample = {
      t: now,
      publishes: totals.published - this.#last.published,
      deliveries: totals.deliveries - this.#last.deliveries,
      cutOffs: totals.cutOffs - this.#last.cutOffs,
      subscribers: this.#hub.subscriberCount,
      rss: memory.rss,
      heapUsed: memory.heapUsed,
    };
    this.#last = totals;
    this.#ring[this.#next] = sample;
    this.#next = (this.#next + 1) % this.#ring.length;
    this.#count = Math.min(this.#count + 1, this.#ring.length);
    return sample;
  }

  /** The samples kept, oldest first. */
  samples(): Sample[] {
    const out: Sample[] = [];
    const size = this.#ring.length;
    for (let i = 0; i < this.#count; i++) {
      const s = this.#ring[(this.#next - this.#count + i + size) % size];
      if (s !== undefined) out.push(s);
    }
    return out;
  }

  /** Running totals since the hub started. */
  totals(): Totals {
    return this.#totals();
  }
}
