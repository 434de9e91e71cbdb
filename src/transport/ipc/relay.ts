import type { FeedGap, Transport, Update } from '../types.js';
import type { IpcChannel } from './channel.js';
import { IPC_TAG, updateSize } from './messages.js';

/** Above this many pending bytes on a worker's channel the relay stops sending it the feed. */
export const DEFAULT_HIGH_WATER_BYTES = 8 * 1024 * 1024;
/** Updates read from the store per step while a worker catches up. */
export const CATCH_UP_PAGE = 256;

export interface RelayOptions {
  /** The store, read from while the worker catches up. */
  store: Transport;
  channel: IpcChannel;
  /** The newest position the host has seen stored (its feed runs ahead of every relay). */
  newest: () => number;
  /** The store's current epoch, for the gaps this relay reports. */
  epoch: () => string;
  highWaterBytes?: number;
  onError: (err: unknown) => void;
}

/**
 * The live feed to one worker. Updates go straight onto the channel while the worker keeps up.
 * When it does not — its channel holds more than the high-water mark, or a test paused it — the
 * relay stops queueing (so a stuck worker cannot grow the primary's memory without bound) and
 * remembers the last position it sent; once the channel drains it reads what was missed from the
 * store, page by page, and goes live again. When the store trimmed part of what was missed the
 * worker gets a `lagged` gap first, exactly as a node reading a shared log would.
 */
export class FeedRelay {
  readonly #options: RelayOptions;
  readonly #highWater: number;
  #lastSent: number;
  /** Position of the first update not sent, when known exactly (the gap check's anchor). */
  #firstSkipped: number | undefined;
  #live = true;
  #paused = false;
  #catchingUp = false;
  #closed = false;
  readonly #offDrain: () => void;

  constructor(options: RelayOptions) {
    this.#options = options;
    this.#highWater = options.highWaterBytes ?? DEFAULT_HIGH_WATER_BYTES;
    this.#lastSent = options.newest();
    this.#offDrain = options.channel.onDrain(() => this.#catchUp());
  }

  /** True while the worker is served from the store rather than the live feed. */
  get lagging(): boolean {
    return !this.#live;
  }

  /** A stored update, in store order (called synchronously from the host's store listener). */
  push(update: Update, position: number): void {
    if (this.#closed || !this.#live) return;
    const { channel } = this.#options;
    if (this.#paused || channel.pendingBytes > this.#highWater) {
      this.#live = false;
      this.#firstSkipped = position;
      return;
    }
    channel.send({ tag: IPC_TAG, kind: 'update', position, update }, updateSize(update));
    this.#lastSent = position;
  }

  /** The store's own feed skipped updates: pass it on; what was missed before it is moot. */
  gap(gap: FeedGap): void {
    if (this.#closed) return;
    this.#options.channel.send({ tag: IPC_TAG, kind: 'gap', gap });
    this.#lastSent = gap.resumeAfter;
    this.#firstSkipped = undefined;
    this.#live = true;
  }

  /**
   * Stops relaying as a stuck worker would make it (tests: the two-node suite's `lag()`); the
   * returned function lets it catch up from the store.
   */
  pause(): () => void {
    this.#paused = true;
    return () => {
      this.#paused = false;
      this.#catchUp();
    };
  }

  close(): void {
    this.#closed = true;
    this.#offDrain();
  }

  #catchUp(): void {
    if (this.#live || this.#catchingUp || this.#closed) return;
    this.#catchingUp = true;
    this.#readMissed()
      .catch((err: unknown) => {
        // The store failed mid-way; the worker cannot know what it missed, so it is told.
        this.#options.onError(err);
        this.#skipTo(this.#options.newest());
        this.#live = true;
      })
      .finally(() => {
        this.#catchingUp = false;
      });
  }

  async #readMissed(): Promise<void> {
    const { store, channel, newest } = this.#options;
    for (;;) {
      if (this.#closed || this.#paused || channel.pendingBytes > this.#highWater) return;
      // Checked and switched in one synchronous step after the last await: nothing stored in
      // between can be lost, because push() ignores updates until #live is set.
      if (this.#lastSent >= newest()) {
        this.#live = true;
        this.#firstSkipped = undefined;
        return;
      }
      // Read from the last position sent, itself included: trimming takes the oldest first, so
      // while it is still retained nothing after it can be gone.
      const until = newest();
      const page = await store.read(this.#lastSent - 1, until, CATCH_UP_PAGE + 1);
      if (this.#closed) return;
      let start = 0;
      const first = page[0];
      if (first && first.position === this.#lastSent) start = 1;
      else if (!first) {
        this.#skipTo(until);
        continue;
      } else if (first.position !== this.#firstSkipped) {
        this.#skipTo(first.position - 1);
      }
      if (start >= page.length) {
        // Nothing after the last position sent although the host saw newer ones stored: they
        // cannot be accounted for, so the worker is told rather than waiting for them forever.
        this.#skipTo(until);
        continue;
      }
      for (let i = start; i < page.length; i++) {
        const { update, position } = page[i]!;
        channel.send({ tag: IPC_TAG, kind: 'update', position, update }, updateSize(update));
        this.#lastSent = position;
      }
      this.#firstSkipped = undefined;
    }
  }

  /** Reports that the updates up to `position` are gone for this worker. */
  #skipTo(position: number): void {
    if (position <= this.#lastSent) return;
    const gap: FeedGap = { reason: 'lagged', resumeAfter: position, epoch: this.#options.epoch() };
    this.#options.channel.send({ tag: IPC_TAG, kind: 'gap', gap });
    this.#lastSent = position;
    this.#firstSkipped = undefined;
  }
}
