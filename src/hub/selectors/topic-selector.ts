/**
 * Topic selectors: compile a selector string once into a TopicMatcher, and keep the compiled
 * form in a bounded LRU cache, because the hub sees the same selectors on every subscription
 * and every token.
 */
import { SseHubError } from '../../errors.js';
import { PatternTooComplexError } from './nfa.js';
import type { SelectorSyntax, TopicMatcher } from './types.js';
import { compileUriTemplate } from './uri-template.js';
import { compileUrlPattern } from './url-pattern.js';

/**
 * How a selector string is read: the two SelectorSyntax values, plus `exact` for draft-08 `Exact`
 * matchers in tokens (plain string equality even when the string contains `{`). In every syntax
 * `*` matches every topic.
 */
export type MatcherKind = SelectorSyntax | 'exact';

export interface CompileOptions {
  /**
   * The hub's URL, used as the base for relative URL patterns and relative topics (Mercure
   * draft 08). Only the `urlpattern` syntax uses it; without it a relative pattern is invalid.
   */
  baseURL?: string;
  /**
   * Most the compiled selector may cost (automaton states + ε-edges, see nfa.ts); past it the
   * compiler stops and throws SELECTOR_TOO_COMPLEX. Default DEFAULT_MAX_SELECTOR_COST.
   */
  maxCost?: number;
}

/** A compiled selector and what matching it costs. */
export interface CompiledSelector extends TopicMatcher {
  /**
   * Work per topic character, in units of the automaton (states + ε-edges, see nfa.ts): one
   * match costs at most `cost` × topic length units. 0 for `*` and exact selectors.
   */
  readonly cost: number;
}

/** The selector that matches every topic, whatever the syntax. */
export const WILDCARD = '*';

/**
 * Compiled selectors kept in memory. Compiling a template or URL pattern costs far more than a
 * lookup, and real deployments reuse a small set of selectors; the bound keeps a stream of
 * distinct selectors (one per subscriber, or hostile) from growing memory without limit.
 */
export const SELECTOR_CACHE_SIZE = 10_000;

/**
 * Automaton cost (states + ε-edges, about 20 bytes a unit) the cache may hold in total, over all
 * entries: a count alone would let 10 000 large patterns pin hundreds of megabytes. A typical
 * template costs a few dozen units; an exact selector weighs one.
 */
export const SELECTOR_CACHE_MAX_COST = 1_000_000;

/**
 * Most one compiled template or URL pattern may cost (states + ε-edges; see nfa.ts), which bounds
 * the work of matching one topic character against it. 1024: typical selectors cost 10–30
 * (`https://example.com/books/{id}` 11, `https://example.com/users/:id/posts/:post` 26); at the
 * limit one match of a 2048-character topic takes at most about 18 ms (≤ 9 ns a unit a character
 * in `bench/selector-worst-case.ts`, 2-core machine), against 0.1 ms for a typical selector.
 */
export const DEFAULT_MAX_SELECTOR_COST = 1024;

/**
 * Budget of a set of selectors matched together: a subscription's pattern selectors, or a token's
 * selectors for one action. 4096: 100 typical URL patterns (`https://example.com/users/:id/posts/:post`,
 * 26 each) use 2600, 100 templates like `https://example.com/books/{id}` 1100; the worst set the
 * budget allows costs about 70 ms per match of a 2048-character topic (7 ms at 200 characters),
 * against 8.6 ms for 100 typical URL patterns (bench/selector-worst-case.ts).
 */
export const DEFAULT_MAX_SELECTOR_SET_COST = 4096;

/**
 * Longest template or URL pattern accepted, in UTF-16 units. Compile time and automaton size grow
 * with the pattern; real selectors are URLs, far shorter. Exact selectors are not limited here
 * (they cost nothing to compile); the hub bounds topic length itself.
 */
export const MAX_PATTERN_LENGTH = 2048;

interface Entry {
  matcher: CompiledSelector;
  weight: number;
}

/**
 * A Map kept in use order: reads move an entry to the end, inserts evict from the front until
 * both the entry count and the total weight fit.
 */
class LruCache {
  readonly #map = new Map<string, Entry>();
  #weight = 0;
  constructor(
    readonly capacity: number,
    readonly maxWeight: number,
  ) {}

  get size(): number {
    return this.#map.size;
  }

  get weight(): number {
    return this.#weight;
  }

  get(key: string): CompiledSelector | undefined {
    const entry = this.#map.get(key);
    if (entry === undefined) return undefined;
    this.#map.delete(key);
    this.#map.set(key, entry);
    return entry.matcher;
  }

  set(key: string, entry: Entry): void {
    this.#remove(key);
    this.#map.set(key, entry);
    this.#weight += entry.weight;
    while (this.#map.size > this.capacity || this.#weight > this.maxWeight) {
      const oldest = this.#map.keys().next().value as string;
      if (oldest === key) break; // never evict what was just added
      this.#remove(oldest);
    }
  }

  #remove(key: string): void {
    const entry = this.#map.get(key);
    if (entry === undefined) return;
    this.#map.delete(key);
    this.#weight -= entry.weight;
  }
}

const cache = new LruCache(SELECTOR_CACHE_SIZE, SELECTOR_CACHE_MAX_COST);
/** Templates and URL patterns compiled (cache misses that got as far as the compiler). */
let compilations = 0;

/**
 * The selector cache's size and weight, and how many patterns were compiled so far: for
 * diagnostics, and for tests that a request did (or did not) make the hub compile anything.
 */
export function selectorCacheStats(): { entries: number; weight: number; compilations: number } {
  return { entries: cache.size, weight: cache.weight, compilations };
}

/** The client-facing refusal of a selector over `limit`; `cost` when it is known. */
export function selectorTooComplex(source: string, limit: number, cost?: number): SseHubError {
  const shown =
    source.length > 80 ? `${JSON.stringify(source.slice(0, 80))}…` : JSON.stringify(source);
  const figure = cost === undefined ? `more than ${limit}` : String(cost);
  return new SseHubError(
    'SELECTOR_TOO_COMPLEX',
    `the selector ${shown} costs ${figure} (automaton states + ε-edges); the limit per selector (maxSelectorCost) is ${limit}`,
  );
}

function build(source: string, kind: MatcherKind, options: CompileOptions, maxCost: number): Entry {
  if (source === WILDCARD) {
    return { matcher: { source, isPattern: true, cost: 0, matches: () => true }, weight: 1 };
  }
  if (kind === 'exact' || (kind === 'template' && !source.includes('{'))) {
    return {
      matcher: { source, isPattern: false, cost: 0, matches: (topic) => topic === source },
      weight: 1,
    };
  }
  if (source.length > MAX_PATTERN_LENGTH) {
    throw new SseHubError(
      'INVALID_TOPIC',
      `a topic selector pattern is ${source.length} characters long; the limit is ${MAX_PATTERN_LENGTH}`,
    );
  }
  let compiled: { cost: number; matches(topic: string): boolean };
  compilations++;
  try {
    compiled =
      kind === 'template'
        ? compileUriTemplate(source, maxCost)
        : compileUrlPattern(source, options.baseURL, maxCost);
  } catch (err) {
    if (err instanceof PatternTooComplexError) throw selectorTooComplex(source, maxCost);
    throw err;
  }
  return {
    matcher: {
      source,
      isPattern: true,
      cost: compiled.cost,
      matches: (topic) => compiled.matches(topic),
    },
    weight: Math.max(1, compiled.cost),
  };
}

/**
 * Compiles a topic selector.
 * - `template` (draft 07 `topic=`, JWT `mercure` claim): `*` matches everything, a string with
 *   `{` is an RFC 6570 URI template, anything else must equal the topic.
 * - `urlpattern` (draft 08): a WHATWG URL pattern, relative ones resolved against `baseURL`.
 * - `exact`: string equality (`*` still matches everything).
 *
 * Returns the same object for the same input while it stays in the cache. Matching is linear in
 * the topic's length whatever the selector, at most `cost` units a character. Throws
 * SseHubError('INVALID_TOPIC'), or SELECTOR_TOO_COMPLEX past `options.maxCost`.
 */
export function compileSelector(
  source: string,
  syntax: MatcherKind = 'template',
  options: CompileOptions = {},
): CompiledSelector {
  if (typeof source !== 'string') {
    throw new SseHubError('INVALID_TOPIC', 'a topic selector must be a string');
  }
  const maxCost = options.maxCost ?? DEFAULT_MAX_SELECTOR_COST;
  const base = syntax === 'urlpattern' ? (options.baseURL ?? '') : '';
  const key = `${syntax}\u0000${base}\u0000${source}`;
  const cached = cache.get(key);
  if (cached !== undefined) {
    // Compiled under another (larger) budget, e.g. by another hub in this process.
    if (cached.cost > maxCost) throw selectorTooComplex(source, maxCost, cached.cost);
    return cached;
  }
  const entry = build(source, syntax, options, maxCost);
  Object.freeze(entry.matcher);
  cache.set(key, entry);
  return entry.matcher;
}

/** True when at least one matcher matches at least one topic. */
export function matchesAny(matchers: Iterable<TopicMatcher>, topics: Iterable<string>): boolean {
  const list = Array.isArray(topics) ? (topics as readonly string[]) : [...topics];
  for (const matcher of matchers) {
    for (const topic of list) if (matcher.matches(topic)) return true;
  }
  return false;
}
