import type { IndexEntry } from './subscriber-index.js';

/** Most updates one batch carries: one bit each in an entry's mask (a small integer). */
export const MAX_BATCH = 30;
/**
 * Largest run of frames joined into one buffer for a subscriber. Past it the frames go out one
 * write each: joining them would copy more than the saved system calls are worth.
 */
const MAX_JOINED_BYTES = 64 * 1024;

/**
 * Gathers, for a batch of updates dispatched together, which of them each subscriber takes, then
 * writes each subscriber's share in one write: one system call per subscriber per batch instead
 * of one per update. Nothing is allocated per subscriber: its share is a bit mask on its index
 * entry, and the joined frames are made once per distinct mask (subscribers of the same topics
 * share one buffer, usually the only one).
 */
export class Coalescer {
  #batch = 0;
  #positions: number[] = [];
  #frames: (Buffer | undefined)[] = [];
  #touched: (IndexEntry | undefined)[] = [];
  #joined = new Map<number, Buffer | null>();

  /** Starts batch number `id` of updates at `positions` (store order; the array is kept). */
  begin(id: number, positions: number[]): void {
    this.#batch = id;
    this.#positions = positions;
    this.#frames = new Array(positions.length);
    this.#touched.length = 0;
    this.#joined.clear();
  }

  /** True when the entry already takes update `index` of this batch (another topic matched it). */
  has(entry: IndexEntry, index: number): boolean {
    return entry.batch === this.#batch && (entry.mask & (1 << index)) !== 0;
  }

  /** Records that the entry takes update `index`, whose encoded frame is `frame`. */
  add(entry: IndexEntry, index: number, frame: Buffer): void {
    this.#frames[index] = frame;
    if (entry.batch !== this.#batch) {
      entry.batch = this.#batch;
      entry.mask = 0;
      this.#touched.push(entry);
    }
    entry.mask |= 1 << index;
  }

  /** Subscribers touched by the batch so far. */
  get size(): number {
    return this.#touched.length;
  }

  /**
   * Writes subscriber `i`'s share (call for i = 0 … size − 1, in any number of slices). A share
   * is checked again against the subscriber's floor: one whose history was planned after the
   * offer may cover some of these updates by now.
   */
  flush(i: number): void {
    const entry = this.#touched[i] as IndexEntry;
    this.#touched[i] = undefined;
    const subscriber = entry.subscriber;
    if (subscriber.ended) return;
    const positions = this.#positions;
    let mask = entry.mask;
    for (let b = 0; b < positions.length; b++) {
      if ((mask & (1 << b)) !== 0 && !subscriber.wants(positions[b] as number)) mask &= ~(1 << b);
    }
    if (mask === 0) return;
    const last = 31 - Math.clz32(mask);
    // One update, or a subscriber still replaying history (it buffers each with its position).
    const joined = (mask & (mask - 1)) !== 0 && subscriber.live ? this.#join(mask) : undefined;
    if (joined !== undefined) {
      subscriber.deliver(positions[last] as number, joined);
      return;
    }
    for (let b = 0; b <= last; b++) {
      if ((mask & (1 << b)) !== 0) {
        subscriber.deliver(positions[b] as number, this.#frames[b] as Buffer);
      }
    }
  }

  /** Ends the batch; drops what it held. */
  end(): void {
    this.#touched.length = 0;
    this.#frames = [];
    this.#joined.clear();
  }

  #join(mask: number): Buffer | undefined {
    const cached = this.#joined.get(mask);
    if (cached !== undefined) return cached ?? undefined;
    const parts: Buffer[] = [];
    let bytes = 0;
    for (let b = 0; b < this.#positions.length; b++) {
      if ((mask & (1 << b)) === 0) continue;
      const frame = this.#frames[b] as Buffer;
      parts.push(frame);
      bytes += frame.byteLength;
    }
    const joined = bytes <= MAX_JOINED_BYTES ? Buffer.concat(parts, bytes) : null;
    this.#joined.set(mask, joined);
    return joined ?? undefined;
  }
}
