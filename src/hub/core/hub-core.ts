import type { Logger } from 'pino';
import type { Update } from '../../transport/types.js';
import type { TopicMatcher } from '../selectors/index.js';
import { Coalescer, MAX_BATCH } from './coalescer.js';
import type { LoopSlicer } from './loop-slicer.js';
import type { Subscriber } from './subscriber.js';
import { type IndexEntry, SubscriberIndex } from './subscriber-index.js';
import { encodeUpdate } from './update-frame.js';

/**
 * Subscribers offered an update (or pattern groups matched) between two looks at the clock. The
 * clock costs little, but less than once per socket write is plenty to notice a full slice.
 */
const OFFERS_PER_CHECK = 64;

// Per-update state of one dispatch: the frame is encoded on first use, so an update nobody
// receives is never encoded, and then shared by every subscriber that does.
interface Pending {
  readonly update: Update;
  readonly position: number;
}

interface Dispatch {
  readonly update: Update;
  readonly position: number;
  readonly mark: number;
  /** Its place in a coalesced batch, or -1 when dispatched alone (written at once). */
  readonly index: number;
  frame: Buffer | undefined;
  /** For a private update: which token matchers matched it, shared by every subscriber. */
  readable: Map<TopicMatcher, boolean> | undefined;
}

/**
 * The pub/sub core, without HTTP: who is subscribed, and which of them receive an update. Each
 * update is encoded once; exact topics are looked up, patterns scanned; a subscriber reached
 * through several topics or selectors receives the update once; a private update reaches only
 * subscribers whose token may read one of its topics.
 *
 * A dispatch that runs past the loop slice pauses and goes on after pending I/O (health checks,
 * publishes, new subscribers) has run, so no number of subscribers or costly selectors can hold
 * the event loop. Updates are dispatched one after another, in order, so every subscriber still
 * receives them in store order; one that joins while a dispatch is paused is offered only updates
 * dispatched after it joined (its history read covers the earlier ones).
 *
 * Updates that wait together are coalesced: the first update of a loop turn is dispatched at once,
 * but those that arrive later in the same turn (several publishes read in one poll), or pile up
 * while a long dispatch is paused, go out as one batch, each subscriber getting its share in one
 * write. A lone update is never held back; under load, system calls per delivery fall.
 */
export class HubCore {
  readonly #index = new SubscriberIndex();
  readonly #subscribers = new Set<Subscriber>();
  readonly #logger: Logger;
  readonly #slicer: LoopSlicer;
  #mark = 0;
  // Updates waiting for dispatch, oldest first, from #head on; #current is the one under way.
  #queue: Pending[] = [];
  #head = 0;
  #current: Generator<void, void> | undefined;
  #running = false;
  // A dispatch ran in this loop turn: updates arriving later in the turn wait for its end.
  #turnTaken = false;
  readonly #coalescer = new Coalescer();
  #paused = 0;
  // Live deliveries (one subscriber offered one update and taking it) and slow-subscriber
  // cut-offs since start: plain increments, read by `stats`.
  #deliveries = 0;
  #cutOffs = 0;
  // Position of the newest update handed to dispatch: where a subscriber joining now starts.
  #lastPosition = 0;

  constructor(logger: Logger, slicer: LoopSlicer) {
    this.#logger = logger;
    this.#slicer = slicer;
  }

  /** Number of registered subscribers (live, or replaying history). */
  get size(): number {
    return this.#subscribers.size;
  }

  /** The index, for inspection (tests, metrics). */
  get index(): SubscriberIndex {
    return this.#index;
  }

  /** Updates waiting for (or in) dispatch, and how often a dispatch yielded the loop: for metrics. */
  get backlog(): { queued: number; pauses: number } {
    return { queued: this.#queue.length - this.#head, pauses: this.#paused };
  }

  /** Live deliveries since start: each update written (or batched) for one subscriber counts one. */
  get deliveries(): number {
    return this.#deliveries;
  }

  /** Subscribers cut off since start because their queue overflowed (slow clients). */
  get cutOffs(): number {
    return this.#cutOffs;
  }

  /** Counts one subscriber cut off for overflowing its queue. */
  countCutOff(): void {
    this.#cutOffs++;
  }

  /** Every registered subscriber. */
  subscribers(): IterableIterator<Subscriber> {
    return this.#subscribers.values();
  }

  /**
   * Registers `subscriber`: from now on it is offered every matching update dispatched after
   * this call (position above the newest one dispatched so far).
   */
  add(subscriber: Subscriber): void {
    if (this.#subscribers.has(subscriber)) return;
    subscriber.skipThrough(this.#lastPosition);
    this.#subscribers.add(subscriber);
    this.#index.add(subscriber);
  }

  /**
   * The live feed skipped updates (see `FeedGap`): every subscriber may have missed some, so each
   * is ended with `history-gap` and its client resumes. Updates still waiting for dispatch go with
   * them: nobody who could receive them is left. The next subscriber starts after `resumeAfter`,
   * which after a data loss may be below positions dispatched before.
   */
  resetAfterGap(resumeAfter: number): number {
    const ended = this.#subscribers.size;
    for (const subscriber of [...this.#subscribers]) subscriber.close('history-gap');
    this.#queue = [];
    this.#head = 0;
    this.#current = undefined;
    this.#coalescer.end();
    this.#lastPosition = resumeAfter;
    return ended;
  }

  /** Unregisters `subscriber`; idempotent. */
  delete(subscriber: Subscriber): void {
    if (!this.#subscribers.delete(subscriber)) return;
    this.#index.delete(subscriber);
  }

  /**
   * Delivers `update` (stored at `position`) to every matching subscriber. Never throws. Updates
   * are dispatched in the order given; one given while another is under way (from inside a
   * delivery, or while a long dispatch is paused) waits for it.
   */
  dispatch(update: Update, position: number): void {
    if (position > this.#lastPosition) this.#lastPosition = position;
    if (this.#subscribers.size === 0 && !this.#running) return;
    this.#queue.push({ update, position });
    if (this.#running) return;
    if (this.#turnTaken) {
      // Later in a turn that already dispatched: wait for the turn's end (#endTurn), where
      // everything that arrived meanwhile goes out together.
      return;
    }
    this.#turnTaken = true;
    setImmediate(this.#endTurn);
    this.#run();
  }

  readonly #resume = (): void => this.#run();

  readonly #endTurn = (): void => {
    this.#turnTaken = false;
    if (!this.#running && this.#head < this.#queue.length) this.#run();
  };

  #run(): void {
    this.#running = true;
    try {
      while (this.#current !== undefined || this.#head < this.#queue.length) {
        if (this.#current === undefined) {
          const count = Math.min(this.#queue.length - this.#head, MAX_BATCH);
          if (count === 1) {
            // Alone: written at once, with no batch to build (the common, unloaded case).
            const { update, position } = this.#queue[this.#head]!;
            this.#queue[this.#head++] = undefined as never;
            this.#current = this.#offerAll(update, position, this.#nextMark(), -1);
          } else {
            const batch = this.#queue.slice(this.#head, this.#head + count);
            for (let i = 0; i < count; i++) this.#queue[this.#head++] = undefined as never;
            this.#current = this.#dispatchBatch(batch);
          }
        }
        if (!this.#step(this.#current)) {
          this.#paused++;
          setImmediate(this.#resume);
          return; // still running: later dispatches keep queueing behind this one
        }
        this.#current = undefined;
      }
      this.#queue = [];
      this.#head = 0;
      this.#running = false;
    } catch (err) {
      // Only a bug gets here (#dispatchOne catches); never leave the core stuck "running".
      this.#logger.error({ err }, 'dispatch loop failed');
      this.#current = undefined;
      this.#running = false;
      if (this.#head < this.#queue.length) setImmediate(this.#resume);
    }
  }

  /** Runs `work` until it is done (true) or the loop slice is used up (false). */
  #step(work: Generator<void, void>): boolean {
    for (;;) {
      if (work.next().done) return true;
      if (this.#slicer.shouldYield()) return false;
    }
  }

  #nextMark(): number {
    // Wraps after 2^53 updates; an index entry's mark would have to survive that long to collide.
    this.#mark = this.#mark === Number.MAX_SAFE_INTEGER ? 1 : this.#mark + 1;
    return this.#mark;
  }

  /** Dispatches several updates (store order) coalesced: each subscriber's share in one write. */
  *#dispatchBatch(batch: readonly Pending[]): Generator<void, void> {
    if (this.#subscribers.size === 0) return;
    const coalescer = this.#coalescer;
    const id = this.#nextMark();
    coalescer.begin(
      id,
      batch.map((p) => p.position),
    );
    for (let i = 0; i < batch.length; i++) {
      const { update, position } = batch[i] as Pending;
      yield* this.#offerAll(update, position, id, i);
    }
    let n = 0;
    for (let i = 0; i < coalescer.size; i++) {
      try {
        coalescer.flush(i);
      } catch (err) {
        this.#logger.error({ err }, 'dispatch failed');
      }
      if (++n >= OFFERS_PER_CHECK) {
        n = 0;
        yield;
      }
    }
    coalescer.end();
  }

  /** Offers one update to every subscriber whose selectors match it. */
  *#offerAll(update: Update, position: number, mark: number, index: number): Generator<void, void> {
    const d: Dispatch = {
      update,
      position,
      mark,
      index,
      frame: undefined,
      readable: update.private ? new Map() : undefined,
    };
    let n = 0;
    // A private update runs each subscriber's token matchers, which can cost up to a selector
    // budget each: look at the clock after every subscriber then.
    const perCheck = update.private ? 1 : OFFERS_PER_CHECK;
    try {
      const topics = update.topics;
      for (let i = 0; i < topics.length; i++) {
        const set = this.#index.exact(topics[i]!);
        if (set === undefined) continue;
        for (const entry of set) {
          this.#offer(entry, d);
          if (++n >= perCheck) {
            n = 0;
            yield;
          }
        }
      }
      for (const entry of this.#index.wildcard) {
        this.#offer(entry, d);
        if (++n >= perCheck) {
          n = 0;
          yield;
        }
      }
      for (const group of this.#index.patterns.values()) {
        // A match can cost up to the selector budget; look at the clock after each one.
        const matched = matchesAnyTopic(group.matcher, topics);
        n = 0;
        yield;
        if (!matched) continue;
        for (const entry of group.subscribers) {
          this.#offer(entry, d);
          if (++n >= perCheck) {
            n = 0;
            yield;
          }
        }
      }
    } catch (err) {
      // A matcher or stream bug must not break delivery to everyone else on later updates.
      this.#logger.error({ err, id: update.id }, 'dispatch failed');
    }
  }

  #offer(entry: IndexEntry, d: Dispatch): void {
    const coalesced = d.index >= 0;
    if (coalesced) {
      if (this.#coalescer.has(entry, d.index)) return;
    } else {
      if (entry.mark === d.mark) return;
      entry.mark = d.mark;
    }
    const subscriber = entry.subscriber;
    const update = d.update;
    if (update.private && !subscriber.mayRead(update.topics, d.readable)) return;
    if (!subscriber.wants(d.position)) return;
    if (d.frame === undefined) d.frame = encodeUpdate(update);
    this.#deliveries++;
    if (coalesced) this.#coalescer.add(entry, d.index, d.frame);
    else subscriber.deliver(d.position, d.frame);
  }
}

function matchesAnyTopic(
  matcher: { matches(topic: string): boolean },
  topics: readonly string[],
): boolean {
  for (let i = 0; i < topics.length; i++) if (matcher.matches(topics[i]!)) return true;
  return false;
}
