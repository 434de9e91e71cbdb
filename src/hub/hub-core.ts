import type { Logger } from 'pino';
import type { Update } from '../transport/types.js';
import type { Subscriber } from './subscriber.js';
import { SubscriberIndex } from './subscriber-index.js';
import { encodeUpdate } from './update-frame.js';

// Per-update state of one dispatch: the frame is encoded on first use, so an update nobody
// receives is never encoded, and then shared by every subscriber that does.
interface Dispatch {
  readonly update: Update;
  readonly mark: number;
  frame: Buffer | undefined;
}

/**
 * The pub/sub core, without HTTP: who is subscribed, and which of them receive an update. Each
 * update is encoded once; exact topics are looked up, patterns scanned; a subscriber reached
 * through several topics or selectors receives the update once; a private update reaches only
 * subscribers whose token may read one of its topics.
 */
export class HubCore {
  readonly #index = new SubscriberIndex();
  readonly #subscribers = new Set<Subscriber>();
  readonly #logger: Logger;
  #mark = 0;
  #dispatching = false;
  #queue: Update[] = [];

  constructor(logger: Logger) {
    this.#logger = logger;
  }

  /** Number of registered subscribers (live, or replaying history). */
  get size(): number {
    return this.#subscribers.size;
  }

  /** The index, for inspection (tests, metrics). */
  get index(): SubscriberIndex {
    return this.#index;
  }

  /** Every registered subscriber. */
  subscribers(): IterableIterator<Subscriber> {
    return this.#subscribers.values();
  }

  /** Registers `subscriber`: from now on it is offered every matching update. */
  add(subscriber: Subscriber): void {
    if (this.#subscribers.has(subscriber)) return;
    this.#subscribers.add(subscriber);
    this.#index.add(subscriber);
  }

  /** Unregisters `subscriber`; idempotent. */
  delete(subscriber: Subscriber): void {
    if (!this.#subscribers.delete(subscriber)) return;
    this.#index.delete(subscriber);
  }

  /**
   * Delivers `update` to every matching subscriber. Never throws. An update dispatched from inside
   * a delivery (a transport that emits synchronously while a closing stream announces its end) is
   * queued until the current one has reached everyone, so order holds and marks stay unique.
   */
  dispatch(update: Update): void {
    if (this.#dispatching) {
      this.#queue.push(update);
      return;
    }
    this.#dispatching = true;
    try {
      this.#dispatchOne(update);
      for (let i = 0; i < this.#queue.length; i++) this.#dispatchOne(this.#queue[i]!);
    } finally {
      this.#queue = [];
      this.#dispatching = false;
    }
  }

  #dispatchOne(update: Update): void {
    if (this.#subscribers.size === 0) return;
    // Wraps after 2^53 updates; a subscriber's mark would have to survive that long to collide.
    this.#mark = this.#mark === Number.MAX_SAFE_INTEGER ? 1 : this.#mark + 1;
    const d: Dispatch = { update, mark: this.#mark, frame: undefined };
    try {
      const topics = update.topics;
      for (let i = 0; i < topics.length; i++) {
        const set = this.#index.exact(topics[i]!);
        if (set !== undefined) for (const subscriber of set) this.#offer(subscriber, d);
      }
      for (const subscriber of this.#index.wildcard) this.#offer(subscriber, d);
      for (const group of this.#index.patterns.values()) {
        if (!matchesAnyTopic(group.matcher, topics)) continue;
        for (const subscriber of group.subscribers) this.#offer(subscriber, d);
      }
    } catch (err) {
      // A matcher or stream bug must not break delivery to everyone else on later updates.
      this.#logger.error({ err, id: update.id }, 'dispatch failed');
    }
  }

  #offer(subscriber: Subscriber, d: Dispatch): void {
    if (subscriber.mark === d.mark) return;
    subscriber.mark = d.mark;
    const update = d.update;
    if (update.private && !subscriber.mayRead(update.topics)) return;
    if (d.frame === undefined) d.frame = encodeUpdate(update);
    subscriber.deliver(update.id, d.frame);
  }
}

function matchesAnyTopic(
  matcher: { matches(topic: string): boolean },
  topics: readonly string[],
): boolean {
  for (let i = 0; i < topics.length; i++) if (matcher.matches(topics[i]!)) return true;
  return false;
}
