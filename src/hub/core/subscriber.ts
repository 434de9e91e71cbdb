import type { EventStreamApi } from '../../stream/types.js';
import type { Update } from '../../transport/types.js';
import type { Claims } from '../auth/index.js';
import type { TopicMatcher } from '../selectors/index.js';
import { type Selector, selectorMatches } from '../selectors/index.js';
import type { DeadlineEntry } from './deadline-timer.js';
import type { HistoryReplay } from './history.js';
import { HistoryGapError } from './history-pages.js';

/** Why a subscriber ended: its stream's close reason, or a hub-side cause before it had one. */
export type SubscriberEndReason =
  | 'client'
  | 'server'
  | 'overflow'
  | 'error'
  | 'expired'
  | 'history-gap';

export interface SubscriberInit {
  /** `urn:uuid:…`, unique among active subscribers. */
  id: string;
  selectors: readonly Selector[];
  /** The verified token's claims; undefined for an anonymous subscriber. */
  claims: Claims | undefined;
  /** Compiled `claims.subscribe`: what private updates this subscriber may read. */
  readMatchers: readonly TopicMatcher[];
  /**
   * Bytes of live updates that may wait while history is replayed (the hub passes
   * `maxQueueBytes`: the same burst a slow live client may fall behind by). Past it the
   * subscriber is cut off, like a slow live client, and resumes from the last id it received.
   */
  maxBufferBytes: number;
}

interface Buffered {
  readonly position: number;
  readonly frame: Buffer;
}

/**
 * One subscriber: its selectors, what its token lets it read, and its event stream. It is
 * registered before its history is read, so live updates that arrive meanwhile are buffered (the
 * shared frames, not copies); `start` then writes the history page by page, flushes the buffer
 * and switches to writing live frames straight to the stream. Every update has a position in the
 * store's order: the subscriber takes only live updates past the newest position its history
 * covers (`skipThrough`), so replay and live delivery neither overlap nor leave a gap, whichever
 * arrives first. The replay is paced by the socket (it waits for drain whenever the stream is
 * blocked), so a history larger than the stream's queue bound still goes out, while the live
 * updates buffered meanwhile are bounded like a slow client's queue.
 */
export class Subscriber implements DeadlineEntry {
  readonly id: string;
  readonly selectors: readonly Selector[];
  readonly claims: Claims | undefined;
  readonly openedAt = Date.now();
  readonly #readMatchers: readonly TopicMatcher[];
  readonly #readsAll: boolean;
  readonly #maxBufferBytes: number;
  #stream: EventStreamApi | undefined;
  // True while `start` writes history and the buffer: live frames must wait behind them.
  #replaying = false;
  #buffer: Buffered[] | undefined = [];
  #bufferBytes = 0;
  #overflowed = false;
  // Live updates at or below this position are not for this subscriber (already in its
  // history, or dispatched before it joined).
  #floor = 0;
  #ended: SubscriberEndReason | undefined;
  #endListeners: ((reason: SubscriberEndReason) => void)[] = [];

  constructor(init: SubscriberInit) {
    this.id = init.id;
    this.selectors = init.selectors;
    this.claims = init.claims;
    this.#readMatchers = init.readMatchers;
    this.#readsAll = init.readMatchers.some((m) => m.source === '*');
    this.#maxBufferBytes = init.maxBufferBytes;
  }

  /** True once the subscriber ended (or its stream closed). */
  get ended(): boolean {
    return this.#ended !== undefined;
  }

  /** True once `start` replayed the history: live updates go straight to the stream. */
  get live(): boolean {
    return this.#stream !== undefined && !this.#replaying;
  }

  /** Ignores live updates at or below `position` from now on (they are history, or older). */
  skipThrough(position: number): void {
    if (position > this.#floor) this.#floor = position;
  }

  /** True unless the update at `position` is one the subscriber must skip. */
  wants(position: number): boolean {
    return position > this.#floor;
  }

  /**
   * The hot path: writes one shared frame, or buffers it while history is being replayed. The
   * dispatcher checked `wants(position)` already.
   */
  deliver(position: number, frame: Buffer): void {
    const stream = this.#stream;
    if (stream !== undefined && !this.#replaying) {
      stream.write(frame);
      return;
    }
    const buffer = this.#buffer;
    if (buffer === undefined || this.#overflowed) return;
    this.#bufferBytes += frame.byteLength;
    if (this.#bufferBytes > this.#maxBufferBytes) {
      // Too far behind, like a slow live client: cut off at once (a replay waiting for a client
      // that does not read would otherwise pin its page and this buffer for good). It resumes
      // from the last id it received.
      this.#overflowed = true;
      this.#buffer = [];
      this.#bufferBytes = 0;
      if (stream !== undefined) this.#end('overflow');
      return;
    }
    buffer.push({ position, frame });
  }

  /** True when the subscriber's selectors select at least one of the update's topics. */
  selects(topics: readonly string[]): boolean {
    for (const selector of this.selectors) if (selectorMatches(selector, topics)) return true;
    return false;
  }

  /**
   * The private-update rule: true when a subscribe selector of the token matches at least one
   * topic (canonical or alternate) of the update.
   */
  mayRead(topics: readonly string[], memo?: Map<TopicMatcher, boolean>): boolean {
    if (this.#readsAll) return true;
    const matchers = this.#readMatchers;
    for (let i = 0; i < matchers.length; i++) {
      const matcher = matchers[i]!;
      // Subscribers with the same token share its compiled matchers: one update runs each once.
      let found = memo?.get(matcher);
      if (found === undefined) {
        found = false;
        for (let j = 0; j < topics.length && !found; j++) found = matcher.matches(topics[j]!);
        memo?.set(matcher, found);
      }
      if (found) return true;
    }
    return false;
  }

  /** True when this subscriber should receive `update` (selected, and readable if private). */
  accepts(update: Update): boolean {
    return this.selects(update.topics) && (!update.private || this.mayRead(update.topics));
  }

  /**
   * Goes live on `stream`: writes the history of `replay` (oldest first, the updates this
   * subscriber accepts), then the live updates buffered meanwhile, then every later update as it
   * comes. Waits for the socket to drain whenever the stream is blocked, so the replay never
   * overflows the stream's queue; resolves once live (or ended). Never rejects.
   */
  async start(stream: EventStreamApi, replay?: HistoryReplay): Promise<void> {
    if (this.#ended !== undefined) {
      stream.close();
      return;
    }
    this.#stream = stream;
    this.#replaying = true;
    stream.onClose((reason) => this.#end(reason));
    try {
      if (this.#overflowed) {
        this.#end('overflow');
        return;
      }
      if (replay !== undefined) {
        this.skipThrough(replay.plan.until);
        for await (const page of replay.pages()) {
          for (const entry of page) {
            // The client may be gone (or the hub shutting down): stop at once.
            if (this.#ended !== undefined || stream.closed) return;
            if (!this.accepts(entry.update)) continue;
            stream.write(replay.frame(entry));
            // Many replays woken together must not each write a whole page in one loop turn.
            const wait = drained(stream) ?? replay.breather();
            if (wait !== undefined) await wait;
          }
          if (this.#ended !== undefined || stream.closed) return;
        }
      }
      // Live updates keep arriving (into a fresh array) while a batch is written: loop until
      // none is left, then go live in the same tick, so none is missed or reordered.
      for (;;) {
        const batch = this.#buffer;
        if (batch === undefined || batch.length === 0) break;
        this.#buffer = [];
        for (const { position, frame } of batch) {
          if (this.#ended !== undefined || stream.closed) return;
          this.#bufferBytes -= frame.byteLength;
          if (position <= this.#floor) continue;
          stream.write(frame);
          const wait = drained(stream);
          if (wait !== undefined) await wait;
        }
      }
    } catch (err) {
      // Trimmed before this client read it: end so that it resumes and learns what was lost.
      this.#end(err instanceof HistoryGapError ? 'history-gap' : 'error');
      return;
    }
    if (this.#ended !== undefined || stream.closed) return;
    this.#buffer = undefined;
    this.#bufferBytes = 0;
    this.#replaying = false;
  }

  /** Ends the subscriber: closes its stream gracefully (or, before it has one, just ends it). */
  close(reason: SubscriberEndReason = 'server'): void {
    this.#end(reason);
  }

  /** DeadlineEntry: the token expired or the maximum lifetime passed. */
  expire(): void {
    this.#end('expired');
  }

  /** Called once when the subscriber ends, for any reason. */
  onEnd(listener: (reason: SubscriberEndReason) => void): void {
    if (this.#ended !== undefined) listener(this.#ended);
    else this.#endListeners.push(listener);
  }

  #end(reason: SubscriberEndReason): void {
    if (this.#ended !== undefined) return;
    this.#ended = reason;
    this.#buffer = undefined;
    const stream = this.#stream;
    this.#stream = undefined;
    const listeners = this.#endListeners;
    this.#endListeners = [];
    try {
      if (stream !== undefined && !stream.closed) stream.close();
    } finally {
      for (const listener of listeners) listener(reason);
    }
  }
}

/** After a replay write: a promise to wait on while the stream is blocked, if it can tell. */
function drained(stream: EventStreamApi): Promise<void> | undefined {
  // No promise at all when the socket takes more: the replay stays synchronous until it is full.
  return stream.needsDrain === true ? stream.whenDrained?.() : undefined;
}
