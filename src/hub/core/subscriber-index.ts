import type { TopicMatcher } from '../selectors/index.js';
import type { Subscriber } from './subscriber.js';

/**
 * A subscriber as the index holds it: one entry per subscriber, shared by every set its selectors
 * put it in, carrying the dispatcher's bookkeeping (which is not the subscriber's business).
 */
export class IndexEntry {
  readonly subscriber: Subscriber;
  /**
   * The dispatch number of the last update offered to this subscriber; lets the dispatcher skip
   * one that several topics or selectors match, without allocating a set per update.
   */
  mark = 0;
  /** The dispatch number of the last batch of updates that reached this subscriber (coalescer). */
  batch = 0;
  /** Which updates of that batch it takes: bit i for the batch's i-th update. */
  mask = 0;

  constructor(subscriber: Subscriber) {
    this.subscriber = subscriber;
  }
}

/** Every subscriber of one pattern selector, with the selector's compiled matcher. */
export interface PatternGroup {
  readonly matcher: TopicMatcher;
  readonly subscribers: Set<IndexEntry>;
}

/**
 * Subscribers by selector. Exact topics are a Map lookup; `*` subscribers are one set; only
 * pattern selectors (templates, URL patterns) are scanned, one compiled matcher per distinct
 * selector however many subscribers share it.
 */
export class SubscriberIndex {
  readonly #exact = new Map<string, Set<IndexEntry>>();
  readonly #wildcard = new Set<IndexEntry>();
  readonly #patterns = new Map<string, PatternGroup>();
  readonly #entries = new Map<Subscriber, IndexEntry>();

  /** Subscribers with an exact selector equal to `topic`. */
  exact(topic: string): Set<IndexEntry> | undefined {
    return this.#exact.get(topic);
  }

  /** Subscribers of `*`. */
  get wildcard(): ReadonlySet<IndexEntry> {
    return this.#wildcard;
  }

  /** Pattern groups to scan. */
  get patterns(): ReadonlyMap<string, PatternGroup> {
    return this.#patterns;
  }

  /** Number of distinct exact topics and patterns (for metrics and tests). */
  get sizes(): { exact: number; patterns: number; wildcard: number } {
    return {
      exact: this.#exact.size,
      patterns: this.#patterns.size,
      wildcard: this.#wildcard.size,
    };
  }

  /** Indexes `subscriber` under each of its selectors; a no-op when it is indexed already. */
  add(subscriber: Subscriber): void {
    if (this.#entries.has(subscriber)) return;
    const entry = new IndexEntry(subscriber);
    this.#entries.set(subscriber, entry);
    for (const selector of subscriber.selectors) {
      if (selector.kind === 'wildcard') {
        this.#wildcard.add(entry);
      } else if (selector.kind === 'exact') {
        let set = this.#exact.get(selector.key);
        if (set === undefined) {
          set = new Set();
          this.#exact.set(selector.key, set);
        }
        set.add(entry);
      } else {
        let group = this.#patterns.get(selector.key);
        if (group === undefined) {
          group = { matcher: selector.matcher!, subscribers: new Set() };
          this.#patterns.set(selector.key, group);
        }
        group.subscribers.add(entry);
      }
    }
  }

  /** Removes `subscriber` from the index; idempotent. */
  delete(subscriber: Subscriber): void {
    const entry = this.#entries.get(subscriber);
    if (entry === undefined) return;
    this.#entries.delete(subscriber);
    for (const selector of subscriber.selectors) {
      if (selector.kind === 'wildcard') {
        this.#wildcard.delete(entry);
      } else if (selector.kind === 'exact') {
        const set = this.#exact.get(selector.key);
        if (set?.delete(entry) && set.size === 0) this.#exact.delete(selector.key);
      } else {
        const group = this.#patterns.get(selector.key);
        if (group?.subscribers.delete(entry) && group.subscribers.size === 0) {
          this.#patterns.delete(selector.key);
        }
      }
    }
  }
}
