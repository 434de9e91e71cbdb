import { isSseHubError, SseHubError } from '../../errors.js';
import type { MatcherCache } from './matcher-cache.js';
import type { CompiledSelector } from './topic-selector.js';
import type { TopicMatcher } from './types.js';

/**
 * How a subscriber's selector was given: draft 07 `topic=` (exact, `*` or RFC 6570 template),
 * draft 08 `match=` (exact, or `*`), or draft 08 `match_urlpattern=` (WHATWG URL pattern).
 */
export type SelectorMode = 'template' | 'exact' | 'urlpattern';

/** One topic selector of a subscription, ready for the index. */
export interface Selector {
  /** The selector as the subscriber gave it. */
  readonly source: string;
  readonly mode: SelectorMode;
  /**
   * `exact`: found by Map lookup on the topic; `wildcard`: `*`, receives everything; `pattern`:
   * scanned with its compiled matcher.
   */
  readonly kind: 'exact' | 'wildcard' | 'pattern';
  /** Index key: the topic for exact selectors, a mode-qualified source for patterns. */
  readonly key: string;
  /** The compiled matcher (shared through the cache); only for patterns. */
  readonly matcher: TopicMatcher | undefined;
  /**
   * What matching it costs per topic character (automaton states + ε-edges, see nfa.ts); 0 for
   * exact and `*` selectors, which are looked up, not scanned. Summed per subscriber against
   * `maxSubscriberSelectorCost`.
   */
  readonly cost: number;
}

/**
 * Compiles one subscription selector. Throws INVALID_TOPIC when it does not compile, and
 * SELECTOR_TOO_COMPLEX when it would cost more than `maxCost` (default: the cache's budget).
 */
export function compileSubscriptionSelector(
  source: string,
  mode: SelectorMode,
  cache: MatcherCache,
  maxCost?: number,
): Selector {
  if (source === '*') {
    return { source, mode, kind: 'wildcard', key: '*', matcher: undefined, cost: 0 };
  }
  if (mode === 'exact') {
    return { source, mode, kind: 'exact', key: source, matcher: undefined, cost: 0 };
  }
  let matcher: CompiledSelector;
  try {
    matcher = cache.get(source, mode, maxCost);
  } catch (err) {
    if (isSseHubError(err, 'INVALID_TOPIC') || isSseHubError(err, 'SELECTOR_TOO_COMPLEX')) {
      throw err;
    }
    throw new SseHubError('INVALID_TOPIC', `cannot compile ${JSON.stringify(source)}`, {
      cause: err,
    });
  }
  // A template without expressions is a plain string: look it up instead of scanning it. URL
  // patterns always scan, since even a literal pattern normalizes (host case, relative URLs).
  if (mode === 'template' && !matcher.isPattern) {
    return { source, mode, kind: 'exact', key: source, matcher: undefined, cost: 0 };
  }
  return { source, mode, kind: 'pattern', key: `${mode}\0${source}`, matcher, cost: matcher.cost };
}

/** True when `selector` selects at least one of `topics`. */
export function selectorMatches(selector: Selector, topics: readonly string[]): boolean {
  switch (selector.kind) {
    case 'wildcard':
      return true;
    case 'exact':
      return topics.includes(selector.key);
    default:
      for (const topic of topics) if (selector.matcher!.matches(topic)) return true;
      return false;
  }
}
