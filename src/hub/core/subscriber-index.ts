import type { TopicMatcher } from '../selectors/index.js';
import type { Subscriber } from './subscriber.js';

/** Every subscriber of one pattern selector, with the selector's compiled matcher. */
export interface PatternGroup {
  readonly matcher: TopicMatcher;
  readonly subscribers: Set<Subscriber>;
}

/**
 * Subscribers by selector. Exact topics are a Map lookup; `*` subscribers are one set; only
 * pattern selectors (templates, URL patterns) are scanned, one compiled matcher per distinct
 * selector however many subscribers share it.
 */
export class SubscriberIndex {
  readonly #exact = new Map<string, Set<Subscriber>>();
  readonly #wildcard = new Set<Subscriber>();
  readonly #patterns = new Map<string, PatternGroup>();

  /** Subscribers with an exact selector equal to `topic`. */
  exact(topic: string): Set<Subscriber> | undefined {
    return this.#exact.get(topic);
  }

  /** Subscribers of `*`. */
  get wildcard(): ReadonlySet<Subscriber> {
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

  add(subscriber: Subscriber): void {
    for (const selector of subscriber.selectors) {
      if (selector.kind === 'wildcard') {
        this.#wildcard.add(subscriber);
      } else if (selector.kind === 'exact') {
        let set = this.#exact.get(selector.key);
        if (set === undefined) {
          set = new Set();
          this.#exact.set(selector.key, set);
        }
        set.add(subscriber);
      } else {
        let group = this.#patterns.get(selector.key);
        if (group === undefined) {
          group = { matcher: selector.matcher!, subscribers: new Set() };
          this.#patterns.set(selector.key, group);
        }
        group.subscribers.add(subscriber);
      }
    }
  }

  delete(subscriber: Subscriber): void {
    for (const selector of subscriber.selectors) {
      if (selector.kind === 'wildcard') {
        this.#wildcard.delete(subscriber);
      } else if (selector.kind === 'exact') {
        const set = this.#exact.get(selector.key);
        if (set?.delete(subscriber) && set.size === 0) this.#exact.delete(selector.key);
      } else {
        const group = this.#patterns.get(selector.key);
        if (group?.subscribers.delete(subscriber) && group.subscribers.size === 0) {
          this.#patterns.delete(selector.key);
        }
      }
    }
  }
}
