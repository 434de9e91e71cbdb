/**
 * Topic selectors: compile a selector string once into a TopicMatcher, and keep the compiled
 * form in a bounded LRU cache, because the hub sees the same selectors on every subscription
 * and every token.
 */
import { SseHubError } from '../errors.js';
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
 * Automaton states (about 30 bytes each) the cache may hold in total, over all entries: a count
 * alone would let 10 000 large patterns pin hundreds of megabytes. A typical template is a few
 * dozen states; an exact selector counts as one.
 */
export const SELECTOR_CACHE_MAX_STATES = 1_000_000;

/**
 * Longest template or URL pattern accepted, in UTF-16 units. Compile time and automaton size grow
 * with the pattern; real selectors are URLs, far shorter. Exact selectors are not limited here
 * (they cost nothing to compile); the hub bounds topic length itself.
 */
export const MAX_PATTERN_LENGTH = 2048;

interface Entry {
  matcher: TopicMatcher;
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

  get(key: string): TopicMatcher | undefined {
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

const cache = new LruCache(SELECTOR_CACHE_SIZE, SELECTOR_CACHE_MAX_STATES);

function build(source: string, kind: MatcherKind, options: CompileOptions): Entry {
  if (source === WILDCARD) {
    return { matcher: { source, isPattern: true, matches: () => true }, weight: 1 };
  }
  if (kind === 'exact' || (kind === 'template' && !source.includes('{'))) {
    return {
      matcher: { source, isPattern: false, matches: (topic) => topic === source },
      weight: 1,
    };
  }
  if (source.length > MAX_PATTERN_LENGTH) {
    throw new SseHubError(
      'INVALID_TOPIC',
      `a topic selector pattern is ${source.length} characters long; the limit is ${MAX_PATTERN_LENGTH}`,
    );
  }
  const compiled =
    kind === 'template' ? compileUriTemplate(source) : compileUrlPattern(source, options.baseURL);
  return {
    matcher: { source, isPattern: true, matches: (topic) => compiled.matches(topic) },
    weight: compiled.size,
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
 * the topic's length whatever the selector. Throws SseHubError('INVALID_TOPIC').
 */
export function compileSelector(
  source: string,
  syntax: MatcherKind = 'template',
  options: CompileOptions = {},
): TopicMatcher {
  if (typeof source !== 'string') {
    throw new SseHubError('INVALID_TOPIC', 'a topic selector must be a string');
  }
  const base = syntax === 'urlpattern' ? (options.baseURL ?? '') : '';
  const key = `${syntax}\u0000${base}\u0000${source}`;
  const cached = cache.get(key);
  if (cached !== undefined) return cached;
  const entry = build(source, syntax, options);
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
