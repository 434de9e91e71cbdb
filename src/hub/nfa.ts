/**
 * A tiny Thompson NFA: topic selectors (RFC 6570 templates, URL patterns) compile to it so that
 * matching costs O(topic length × pattern size) whatever the pattern. Subscribers choose their
 * selectors, and a backtracking engine (JavaScript's RegExp) lets a crafted selector such as
 * `{a}{b}{c}{d}x` or `/:a{-:b}*x` burn seconds of CPU on every published update.
 */

/** Tests one code point. */
export type CharTest = (cp: number) => boolean;

/** A regular language, built by the selector compilers and turned into an automaton by `Nfa`. */
export type Node =
  | { readonly t: 'char'; readonly test: CharTest }
  | { readonly t: 'seq'; readonly items: readonly Node[] }
  | { readonly t: 'alt'; readonly items: readonly Node[] }
  /** `item` repeated min..max times (max = Infinity for unbounded). */
  | { readonly t: 'rep'; readonly item: Node; readonly min: number; readonly max: number }
  /**
   * `first` then a non-empty, in-order subsequence of `items` separated by `sep` — or nothing.
   * This is an RFC 6570 expression (undefined variables are skipped); built as a graph it stays
   * O(items²) instead of the exponential tree of all subsequences.
   */
  | {
      readonly t: 'sublist';
      readonly first: Node;
      readonly items: readonly Node[];
      readonly sep: Node;
    };

/**
 * Most states one compiled selector may have (a literal character costs 2, `{0,100}` copies its
 * item 100 times). Matching walks only the states active at each character, so this mostly bounds
 * compile time and memory: about 30 bytes a state once built.
 */
export const MAX_NFA_STATES = 16_384;

/** Thrown by the builder when a pattern passes MAX_NFA_STATES; callers turn it into their error. */
export class PatternTooComplexError extends Error {
  constructor() {
    super(`the pattern needs more than ${MAX_NFA_STATES} automaton states`);
    this.name = 'PatternTooComplexError';
  }
}

export const char = (test: CharTest): Node => ({ t: 'char', test });
export const seq = (...items: Node[]): Node => ({ t: 'seq', items });
export const alt = (...items: Node[]): Node => ({ t: 'alt', items });
export const rep = (item: Node, min: number, max: number): Node => ({ t: 'rep', item, min, max });
export const opt = (item: Node): Node => rep(item, 0, 1);
export const EMPTY: Node = seq();

/**
 * Equality tests shared per code point, so a long literal does not allocate one closure per
 * character. Bounded: past it, tests are created fresh (correct, just not shared).
 */
const EQ_CACHE_SIZE = 1024;
const eqCache = new Map<number, CharTest>();

/** A test for exactly the code point `cp`. */
export function eq(cp: number): CharTest {
  let test = eqCache.get(cp);
  if (test === undefined) {
    test = (c) => c === cp;
    if (eqCache.size < EQ_CACHE_SIZE) eqCache.set(cp, test);
  }
  return test;
}

/** The exact text `text`, code point by code point. */
export function lit(text: string): Node {
  const items: Node[] = [];
  for (const ch of text) items.push(char(eq(ch.codePointAt(0)!)));
  return items.length === 1 ? items[0]! : seq(...items);
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

function nextGeneration(sc: Scratch): void {
  if (++sc.gen === 0x7fffffff) {
    sc.mark.fill(0);
    sc.gen = 1;
  }
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

export class Nfa {
  // Built as lists, then frozen into typed arrays (ε-edges of state s: #edges[#edgeStart[s]…]).
  #tests: (CharTest | undefined)[] = [];
  #nextList: number[] = [];
  #eps: number[][] = [];
  readonly #next: Int32Array;
  readonly #edgeStart: Int32Array;
  readonly #edges: Int32Array;
  readonly #size: number;
  readonly #start: number;
  readonly #accept: number;

  /** Throws PatternTooComplexError when the automaton would pass MAX_NFA_STATES. */
  constructor(root: Node) {
    this.#start = this.#state();
    this.#accept = this.#build(root, this.#start);
    const n = this.#eps.length;
    this.#size = n;
    this.#next = Int32Array.from(this.#nextList);
    this.#edgeStart = new Int32Array(n + 1);
    for (let q = 0; q < n; q++) this.#edgeStart[q + 1] = this.#edgeStart[q]! + this.#eps[q]!.length;
    this.#edges = Int32Array.from(this.#eps.flat());
    this.#eps = [];
    this.#nextList = [];
  }

  /** Number of states, for tests and diagnostics. */
  get size(): number {
    return this.#size;
  }

  /** True when the whole of `input` from `from` (a UTF-16 index) is in the language. */
  matches(input: string, from = 0): boolean {
    const sc = scratchFor(this.#size);
    let cur = sc.cur;
    let nxt = sc.nxt;
    let count = this.#add(sc, this.#start, cur, 0);
    let accepted = sc.mark[this.#accept] === sc.gen;
    for (let i = from; i < input.length; ) {
      if (count === 0) return false;
      const cp = input.codePointAt(i)!;
      i += cp > 0xffff ? 2 : 1;
      nextGeneration(sc);
      let n = 0;
      for (let k = 0; k < count; k++) {
        const s = cur[k]!;
        if (this.#tests[s]!(cp)) n = this.#add(sc, this.#next[s]!, nxt, n);
      }
      accepted = sc.mark[this.#accept] === sc.gen;
      const swap = cur;
      cur = nxt;
      nxt = swap;
      count = n;
    }
    return accepted;
  }

  /** Adds `s` and its ε-closure; keeps only consuming states in `list`. Iterative: no deep recursion. */
  #add(sc: Scratch, s: number, list: Int32Array, count: number): number {
    const { gen, mark, stack } = sc;
    if (mark[s] === gen) return count;
    let top = 0;
    mark[s] = gen;
    stack[top++] = s;
    while (top > 0) {
      const q = stack[--top]!;
      if (this.#tests[q] !== undefined) list[count++] = q;
      for (let k = this.#edgeStart[q]!, end = this.#edgeStart[q + 1]!; k < end; k++) {
        const e = this.#edges[k]!;
        if (mark[e] !== gen) {
          mark[e] = gen;
          stack[top++] = e;
        }
      }
    }
    return count;
  }

  #state(): number {
    if (this.#eps.length >= MAX_NFA_STATES) throw new PatternTooComplexError();
    this.#eps.push([]);
    this.#tests.push(undefined);
    this.#nextList.push(-1);
    return this.#eps.length - 1;
  }

  #link(from: number, to: number): void {
    this.#eps[from]!.push(to);
  }

  /** Builds `node` starting at state `from`; returns its exit state. */
  #build(node: Node, from: number): number {
    switch (node.t) {
      case 'char': {
        // Every character edge leaves a fresh state, so a state has at most one of them.
        const a = this.#state();
        const b = this.#state();
        this.#link(from, a);
        this.#tests[a] = node.test;
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
        for (const item of node.items) {
          const entry = this.#state();
          this.#link(from, entry);
          this.#link(this.#build(item, entry), end);
        }
        return end;
      }
      case 'rep': {
        // An item without states (an empty group) would let a huge count loop without ever
        // reaching the state limit.
        if (
          node.min > MAX_NFA_STATES ||
          (node.max !== Number.POSITIVE_INFINITY && node.max > MAX_NFA_STATES)
        ) {
          throw new PatternTooComplexError();
        }
        let cur = from;
        for (let i = 0; i < node.min; i++) cur = this.#build(node.item, cur);
        if (node.max === Number.POSITIVE_INFINITY) {
          const hub = this.#state();
          this.#link(cur, hub);
          const entry = this.#state();
          this.#link(hub, entry);
          this.#link(this.#build(node.item, entry), hub);
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
        const end = this.#state();
        this.#link(from, end);
        const afterFirst = this.#build(node.first, from);
        const entries = node.items.map(() => this.#state());
        for (const entry of entries) this.#link(afterFirst, entry);
        node.items.forEach((item, i) => {
          const exit = this.#build(item, entries[i]!);
          this.#link(exit, end);
          if (i < entries.length - 1) {
            const afterSep = this.#build(node.sep, exit);
            for (let j = i + 1; j < entries.length; j++) this.#link(afterSep, entries[j]!);
          }
        });
        return end;
      }
    }
  }
}
