/**
 * A tiny Thompson NFA: topic selectors (RFC 6570 templates, URL patterns) compile to it so that
 * matching costs O(topic length × automaton cost) whatever the pattern. Subscribers choose their
 * selectors, and a backtracking engine (JavaScript's RegExp) lets a crafted selector such as
 * `{a}{b}{c}{d}x` or `/:a{-:b}*x` burn seconds of CPU on every published update. Linear is not
 * enough on its own: the automaton's cost (states + ε-edges) is the factor, so it is measured
 * while building and bounded by a budget (see DEFAULT_MAX_NFA_COST).
 */

/**
 * A set of code points: sorted, disjoint, non-adjacent inclusive ranges `[lo0, hi0, lo1, hi1, …]`.
 * Every character test is one, so the automaton tests a character with a bitmap lookup (ASCII)
 * or a short range search, never a call: this is the hub's inner loop for pattern selectors.
 */
export type CharSet = readonly number[];

export const MAX_CODE_POINT = 0x10ffff;
/** Every code point. */
export const ANY: CharSet = Object.freeze([0, MAX_CODE_POINT]);

/** The set of the given inclusive ranges, in any order, overlapping or not. */
export function charSet(pairs: readonly (readonly [number, number])[]): CharSet {
  const sorted = [...pairs].filter(([lo, hi]) => lo <= hi).sort((a, b) => a[0] - b[0]);
  const out: number[] = [];
  for (const [lo, hi] of sorted) {
    if (out.length > 0 && lo <= out[out.length - 1]! + 1) {
      out[out.length - 1] = Math.max(out[out.length - 1]!, hi);
    } else out.push(lo, hi);
  }
  return out;
}

/** The pairs of `set`, to combine sets with `charSet`. */
export function rangesOf(set: CharSet): [number, number][] {
  const out: [number, number][] = [];
  for (let i = 0; i < set.length; i += 2) out.push([set[i]!, set[i + 1]!]);
  return out;
}

export const union = (...sets: CharSet[]): CharSet => charSet(sets.flatMap(rangesOf));

/** Every code point not in `set`. */
export function complement(set: CharSet): CharSet {
  const out: number[] = [];
  let next = 0;
  for (let i = 0; i < set.length; i += 2) {
    if (set[i]! > next) out.push(next, set[i]! - 1);
    next = set[i + 1]! + 1;
  }
  if (next <= MAX_CODE_POINT) out.push(next, MAX_CODE_POINT);
  return out;
}

/** The code points of `text`. */
export const charsOf = (text: string): CharSet =>
  charSet([...text].map((c) => [c.codePointAt(0)!, c.codePointAt(0)!] as const));

/** True when `cp` is in `set` (for tests and compile-time checks; the automaton inlines this). */
export function inSet(set: CharSet, cp: number): boolean {
  for (let i = 0; i < set.length; i += 2) {
    if (cp < set[i]!) return false;
    if (cp <= set[i + 1]!) return true;
  }
  return false;
}

/** A regular language, built by the selector compilers and turned into an automaton by `Nfa`. */
export type Node =
  | { readonly t: 'char'; readonly set: CharSet }
  | { readonly t: 'seq'; readonly items: readonly Node[] }
  | { readonly t: 'alt'; readonly items: readonly Node[] }
  /** `item` repeated min..max times (max = Infinity for unbounded). */
  | { readonly t: 'rep'; readonly item: Node; readonly min: number; readonly max: number }
  /**
   * `first` then a non-empty, in-order subsequence of `items` separated by `sep` — or nothing.
   * This is an RFC 6570 expression (undefined variables are skipped); built as a chain of skip
   * states it stays O(items), instead of the exponential tree of all subsequences or the
   * O(items²) edges of linking each item to every later one.
   */
  | {
      readonly t: 'sublist';
      readonly first: Node;
      readonly items: readonly Node[];
      readonly sep: Node;
    };

/**
 * The cost of an automaton: its states plus its ε-edges (plus a few units for a character class
 * with many non-ASCII ranges, which takes a binary search). `matches` visits each state and
 * follows each ε-edge at most once per input character, so cost × input length bounds the work of
 * one match, whatever the pattern; cost is also what the automaton weighs in memory (about 20
 * bytes a unit). This default is the compiler's own bound; the hub's budgets (maxSelectorCost,
 * maxSubscriberSelectorCost) are what keep matching work small.
 */
export const DEFAULT_MAX_NFA_COST = 16_384;

/**
 * Thrown by the builder as soon as the automaton's cost passes its budget, before the rest is
 * built; callers turn it into their error. `budget` says which limit was hit.
 */
export class PatternTooComplexError extends Error {
  constructor(readonly budget: number) {
    super(`the pattern costs more than ${budget} (automaton states + ε-edges)`);
    this.name = 'PatternTooComplexError';
  }
}

export const char = (set: CharSet): Node => ({ t: 'char', set });
export const seq = (...items: Node[]): Node => ({ t: 'seq', items });
export const alt = (...items: Node[]): Node => ({ t: 'alt', items });
export const rep = (item: Node, min: number, max: number): Node => ({ t: 'rep', item, min, max });
export const opt = (item: Node): Node => rep(item, 0, 1);
export const EMPTY: Node = seq();

/**
 * One-point sets shared per code point, so that a long literal does not allocate a set per
 * character and the automaton's class table stays small. Bounded: past it, sets are created fresh.
 */
const EQ_CACHE_SIZE = 1024;
const eqCache = new Map<number, CharSet>();

/** The set of exactly the code point `cp`. */
export function eq(cp: number): CharSet {
  let set = eqCache.get(cp);
  if (set === undefined) {
    set = Object.freeze([cp, cp]);
    if (eqCache.size < EQ_CACHE_SIZE) eqCache.set(cp, set);
  }
  return set;
}

/** The exact text `text`, code point by code point. */
export function lit(text: string): Node {
  const items: Node[] = [];
  for (const ch of text) items.push(char(eq(ch.codePointAt(0)!)));
  return items.length === 1 ? items[0]! : seq(...items);
}

/** True when `node` matches the empty string (a cheap, conservative test: false is safe). */
function nullable(node: Node): boolean {
  switch (node.t) {
    case 'char':
      return false;
    case 'seq':
      return node.items.every(nullable);
    case 'alt':
      return node.items.some(nullable);
    case 'rep':
      return node.min === 0 || nullable(node.item);
    case 'sublist':
      return true;
  }
}

/** Up to this many non-ASCII ranges are scanned in order; more are binary-searched. */
const LINEAR_RANGES = 8;

/** Cost of testing a character against `set` (1 unless its non-ASCII part needs a search). */
function testCost(set: CharSet): number {
  let n = 0;
  for (let i = 0; i < set.length; i += 2) if (set[i + 1]! >= 0x80) n++;
  return n <= LINEAR_RANGES ? 1 : Math.ceil(Math.log2(n + 1));
}

/**
 * Work buffers shared by every automaton: matching is synchronous and never re-entered, so one set
 * sized for the largest automaton serves all, instead of four arrays per compiled selector. A state
 * is "seen" in the current step when mark[state] === gen.
 */
interface Scratch {
  mark: Int32Array;
  gen: number;
  cur: Int32Array;
  nxt: Int32Array;
  stack: Int32Array;
}
const scratch: Scratch = {
  mark: new Int32Array(0),
  gen: 0,
  cur: new Int32Array(0),
  nxt: new Int32Array(0),
  stack: new Int32Array(0),
};

function nextGeneration(sc: Scratch): number {
  if (++sc.gen === 0x7fffffff) {
    sc.mark.fill(0);
    sc.gen = 1;
  }
  return sc.gen;
}

function scratchFor(size: number): Scratch {
  if (scratch.mark.length < size) {
    const n = Math.max(size, scratch.mark.length * 2);
    scratch.mark = new Int32Array(n);
    scratch.cur = new Int32Array(n);
    scratch.nxt = new Int32Array(n);
    scratch.stack = new Int32Array(n);
    scratch.gen = 0;
  }
  nextGeneration(scratch);
  return scratch;
}

/** True when `cp` (≥ 0x80) is in the non-ASCII ranges `ranges[start…end)` (pairs). */
function inHigh(ranges: Int32Array, start: number, end: number, cp: number): boolean {
  if (end - start <= 2 * LINEAR_RANGES) {
    for (let i = start; i < end; i += 2) {
      if (cp < ranges[i]!) return false;
      if (cp <= ranges[i + 1]!) return true;
    }
    return false;
  }
  let lo = 0;
  let hi = ((end - start) >> 1) - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const at = start + 2 * mid;
    if (cp < ranges[at]!) hi = mid - 1;
    else if (cp > ranges[at + 1]!) lo = mid + 1;
    else return true;
  }
  return false;
}

export class Nfa {
  // Built as lists, then frozen into typed arrays (ε-edges of state s: #edges[#edgeStart[s]…]).
  #sets: (CharSet | undefined)[] = [];
  #nextList: number[] = [];
  #eps: number[][] = [];
  /** Class of each state's character test (an index into the class table), -1 for ε-only states. */
  readonly #cls: Int32Array;
  /** Per class, 128 bits: which ASCII code points it holds. */
  readonly #ascii: Int32Array;
  /** Per class, its ranges at or above 0x80: #high[#highStart[c]…#highStart[c + 1]). */
  readonly #highStart: Int32Array;
  readonly #high: Int32Array;
  readonly #next: Int32Array;
  readonly #edgeStart: Int32Array;
  readonly #edges: Int32Array;
  readonly #size: number;
  readonly #start: number;
  readonly #accept: number;
  readonly #cost: number;
  readonly #budget: number;
  #spent = 0;
  /** Nodes that consume nothing, so that repeating them builds nothing (see `#build`). */
  readonly #empty = new WeakMap<Node, boolean>();

  /**
   * Throws PatternTooComplexError as soon as the automaton's cost (see DEFAULT_MAX_NFA_COST)
   * passes `maxCost`: a hostile pattern is refused after at most `maxCost` units of building.
   */
  constructor(root: Node, maxCost: number = DEFAULT_MAX_NFA_COST) {
    this.#budget = maxCost;
    this.#start = this.#state();
    this.#accept = this.#build(root, this.#start);
    const n = this.#eps.length;
    this.#size = n;
    this.#cost = this.#spent;
    this.#next = Int32Array.from(this.#nextList);
    this.#edgeStart = new Int32Array(n + 1);
    for (let q = 0; q < n; q++) this.#edgeStart[q + 1] = this.#edgeStart[q]! + this.#eps[q]!.length;
    this.#edges = Int32Array.from(this.#eps.flat());
    // The class table: one entry per distinct set (literals share theirs through `eq`).
    const classes = new Map<CharSet, number>();
    const ascii: number[] = [];
    const highStart: number[] = [0];
    const high: number[] = [];
    this.#cls = Int32Array.from(this.#sets, (set) => {
      if (set === undefined) return -1;
      let c = classes.get(set);
      if (c === undefined) {
        c = classes.size;
        classes.set(set, c);
        const bits = [0, 0, 0, 0];
        for (let i = 0; i < set.length; i += 2) {
          for (let cp = set[i]!; cp <= Math.min(set[i + 1]!, 0x7f); cp++) {
            bits[cp >> 5]! |= 1 << (cp & 31);
          }
          if (set[i + 1]! >= 0x80) high.push(Math.max(set[i]!, 0x80), set[i + 1]!);
        }
        ascii.push(...bits);
        highStart.push(high.length);
      }
      return c;
    });
    this.#ascii = Int32Array.from(ascii);
    this.#highStart = Int32Array.from(highStart);
    this.#high = Int32Array.from(high);
    this.#eps = [];
    this.#nextList = [];
    this.#sets = [];
  }

  /** Number of states, for tests and diagnostics. */
  get size(): number {
    return this.#size;
  }

  /** Number of ε-edges, for tests and diagnostics. */
  get edges(): number {
    return this.#edges.length;
  }

  /**
   * States + ε-edges (+ extra test cost): bounds the work of matching one character, and is the
   * automaton's weight in the selector cache.
   */
  get cost(): number {
    return this.#cost;
  }

  /**
   * True when the whole of `input` from `from` (a UTF-16 index) is in the language. One loop with
   * the fields in locals and the ε-closure inlined: a call or a private-field read per state step
   * would be most of the cost.
   */
  matches(input: string, from = 0): boolean {
    const sc = scratchFor(this.#size);
    const { mark, stack } = sc;
    const cls = this.#cls;
    const ascii = this.#ascii;
    const highStart = this.#highStart;
    const high = this.#high;
    const next = this.#next;
    const edgeStart = this.#edgeStart;
    const edges = this.#edges;
    let cur = sc.cur;
    let nxt = sc.nxt;
    let gen = sc.gen;
    // The closure of the start state first; then, per character, of each state reached.
    let count = 0;
    let top = 0;
    mark[this.#start] = gen;
    stack[top++] = this.#start;
    let i = from;
    for (;;) {
      while (top > 0) {
        const q = stack[--top]!;
        if (cls[q]! >= 0) nxt[count++] = q;
        for (let k = edgeStart[q]!, end = edgeStart[q + 1]!; k < end; k++) {
          const e = edges[k]!;
          if (mark[e] !== gen) {
            mark[e] = gen;
            stack[top++] = e;
          }
        }
      }
      if (i >= input.length) return mark[this.#accept] === gen;
      if (count === 0) return false;
      const swap = cur;
      cur = nxt;
      nxt = swap;
      const n = count;
      count = 0;
      const cp = input.codePointAt(i)!;
      i += cp > 0xffff ? 2 : 1;
      gen = nextGeneration(sc);
      for (let k = 0; k < n; k++) {
        const s = cur[k]!;
        const c = cls[s]!;
        const hit =
          cp < 0x80
            ? ((ascii[(c << 2) | (cp >> 5)]! >>> (cp & 31)) & 1) === 1
            : inHigh(high, highStart[c]!, highStart[c + 1]!, cp);
        if (hit) {
          const t = next[s]!;
          if (mark[t] !== gen) {
            mark[t] = gen;
            stack[top++] = t;
          }
        }
      }
    }
  }

  #charge(units: number): void {
    this.#spent += units;
    if (this.#spent > this.#budget) throw new PatternTooComplexError(this.#budget);
  }

  #state(): number {
    this.#charge(1);
    this.#eps.push([]);
    this.#sets.push(undefined);
    this.#nextList.push(-1);
    return this.#eps.length - 1;
  }

  #link(from: number, to: number): void {
    this.#charge(1);
    this.#eps[from]!.push(to);
  }

  /** True when `node` matches only the empty string and builds no state: nothing to repeat. */
  #isEmpty(node: Node): boolean {
    let empty = this.#empty.get(node);
    if (empty === undefined) {
      switch (node.t) {
        case 'seq':
          empty = node.items.every((item) => this.#isEmpty(item));
          break;
        case 'rep':
          empty = node.max === 0 || this.#isEmpty(node.item);
          break;
        default:
          // A character consumes; alt and sublist always build their exit state.
          empty = false;
      }
      this.#empty.set(node, empty);
    }
    return empty;
  }

  /**
   * Builds `node` starting at state `from`; returns its exit state. No fragment adds an edge into
   * the state it starts from, and every path into a fragment stays in it until its exit: that is
   * what lets a character edge, or several alternatives, start at `from` itself.
   */
  #build(node: Node, from: number): number {
    switch (node.t) {
      case 'char': {
        // A state has at most one character edge. `from` carries it itself when it has none yet
        // (a literal then costs one state a character, not two states and an ε-edge).
        this.#charge(testCost(node.set) - 1);
        let a = from;
        if (this.#sets[from] !== undefined) {
          a = this.#state();
          this.#link(from, a);
        }
        const b = this.#state();
        this.#sets[a] = node.set;
        this.#nextList[a] = b;
        return b;
      }
      case 'seq': {
        let cur = from;
        for (const item of node.items) cur = this.#build(item, cur);
        return cur;
      }
      case 'alt': {
        const end = this.#state();
        for (const item of node.items) this.#link(this.#build(item, from), end);
        return end;
      }
      case 'rep': {
        // Repeating an item that builds nothing (an empty group) builds nothing, however often:
        // without this, `((?:){1000}){1000}` would loop a million times without spending budget.
        if (this.#isEmpty(node)) return from;
        // Every copy of a non-empty item costs at least one unit, so a count above the budget
        // can be refused before building any copy.
        if (
          node.min > this.#budget ||
          (node.max !== Number.POSITIVE_INFINITY && node.max > this.#budget)
        ) {
          throw new PatternTooComplexError(this.#budget);
        }
        let cur = from;
        for (let i = 0; i < node.min; i++) cur = this.#build(node.item, cur);
        if (node.max === Number.POSITIVE_INFINITY) {
          // The loop body starts at `hub` itself and its exit links back to it; the exits of an
          // alternation link back directly, without the alternation's own exit state.
          const hub = this.#state();
          this.#link(cur, hub);
          const items = node.item.t === 'alt' ? node.item.items : [node.item];
          for (const item of items) this.#link(this.#build(item, hub), hub);
          return hub;
        }
        const end = this.#state();
        this.#link(cur, end);
        for (let i = node.min; i < node.max; i++) {
          cur = this.#build(node.item, cur);
          this.#link(cur, end);
        }
        return end;
      }
      case 'sublist': {
        // After `first`, or after a separator, any later item may come next: skip[i] enters
        // item i or passes on to skip[i + 1].
        // One item after nothing is that item, or nothing: no skip chain needed.
        const only = node.items.length === 1 ? node.items[0]! : undefined;
        if (only !== undefined && this.#isEmpty(node.first)) {
          return this.#build(nullable(only) ? only : opt(only), from);
        }
        const end = this.#state();
        this.#link(from, end);
        if (node.items.length === 0) return end;
        const afterFirst = this.#build(node.first, from);
        const skips = node.items.map(() => this.#state());
        this.#link(afterFirst, skips[0]!);
        node.items.forEach((item, i) => {
          const next = skips[i + 1];
          if (next !== undefined) this.#link(skips[i]!, next);
          const exit = this.#build(item, skips[i]!);
          this.#link(exit, end);
          if (next !== undefined) this.#link(this.#build(node.sep, exit), next);
        });
        return end;
      }
    }
  }
}
