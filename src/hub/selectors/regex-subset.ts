/**
 * The regular expressions allowed inside URL-pattern groups (`:id(\\d+)`), parsed into the linear
 * automaton of nfa.ts rather than run by the backtracking RegExp engine.
 *
 * Supported: literals, `.`, classes `[a-z]` `[^/]`, `\d \w \s` and their negations, escapes,
 * groups `(…)` `(?:…)`, `|`, and the quantifiers `* + ? {n} {n,} {n,m}` (lazy or not: only
 * match/no-match matters here). Not supported, because they are not regular or need
 * backtracking: anchors, `\b`, lookarounds, back-references, named groups, `\p{…}`.
 *
 * Input is assumed to be a valid `u`-flag regular expression (the URL-pattern polyfill has
 * already compiled it); anything outside the subset throws UnsupportedRegexError.
 */
import {
  alt,
  type CharSet,
  char,
  charSet,
  complement,
  EMPTY,
  eq,
  type Node,
  rangesOf,
  rep,
  seq,
} from './nfa.js';

export class UnsupportedRegexError extends Error {
  constructor(what: string) {
    super(`unsupported in a URL pattern regular expression: ${what}`);
    this.name = 'UnsupportedRegexError';
  }
}

const DIGIT = charSet([[0x30, 0x39]]);
const WORD = charSet([
  [0x30, 0x39],
  [0x41, 0x5a],
  [0x5f, 0x5f],
  [0x61, 0x7a],
]);
const SPACE = charSet([
  [0x09, 0x0d],
  [0x20, 0x20],
  [0xa0, 0xa0],
  [0x1680, 0x1680],
  [0x2000, 0x200a],
  [0x2028, 0x2029],
  [0x202f, 0x202f],
  [0x205f, 0x205f],
  [0x3000, 0x3000],
  [0xfeff, 0xfeff],
]);
/** `.` without the `s` flag: anything but a line terminator. */
const DOT = complement(
  charSet([
    [0x0a, 0x0a],
    [0x0d, 0x0d],
    [0x2028, 0x2029],
  ]),
);
const isDigit = (cp: number): boolean => cp >= 0x30 && cp <= 0x39;

const CLASS_ESCAPES: Record<string, CharSet> = {
  d: DIGIT,
  D: complement(DIGIT),
  w: WORD,
  W: complement(WORD),
  s: SPACE,
  S: complement(SPACE),
};
const CONTROL_ESCAPES: Record<string, number> = { n: 0x0a, r: 0x0d, t: 0x09, f: 0x0c, v: 0x0b };
const SYNTAX = new Set('^$\\.*+?()[]{}|/-');

/**
 * Quantifier bounds above this are refused: each repetition copies its item into the automaton,
 * so the bound is what keeps `x{100000}` from building (or looping) for long.
 */
export const MAX_QUANTIFIER = 1000;

type Escape = { cls: CharSet } | { cp: number };

class Parser {
  #i = 0;
  constructor(readonly src: string) {}

  parse(): Node {
    const node = this.#alternation();
    if (this.#i < this.src.length) throw new UnsupportedRegexError(`unexpected "${this.#peek()}"`);
    return node;
  }

  #peek(): string {
    return this.src[this.#i] ?? '';
  }

  #alternation(): Node {
    const items = [this.#concat()];
    while (this.#peek() === '|') {
      this.#i++;
      items.push(this.#concat());
    }
    return items.length === 1 ? items[0]! : alt(...items);
  }

  #concat(): Node {
    const items: Node[] = [];
    while (this.#i < this.src.length && this.#peek() !== '|' && this.#peek() !== ')') {
      items.push(this.#quantified(this.#atom()));
    }
    return items.length === 1 ? items[0]! : seq(...items);
  }

  #atom(): Node {
    const c = this.src[this.#i++]!;
    switch (c) {
      case '(': {
        if (this.#peek() === '?') {
          if (this.src[this.#i + 1] !== ':')
            throw new UnsupportedRegexError('"(?" other than "(?:"');
          this.#i += 2;
        }
        const inner = this.#alternation();
        if (this.src[this.#i++] !== ')') throw new UnsupportedRegexError('unbalanced "("');
        return inner;
      }
      case '[':
        return this.#class();
      case '.':
        return char(DOT);
      case '\\': {
        const e = this.#escape(false);
        return char('cls' in e ? e.cls : eq(e.cp));
      }
      case '^':
      case '$':
        throw new UnsupportedRegexError(`anchor "${c}"`);
      case '*':
      case '+':
      case '?':
      case '{':
      case '}':
      case ']':
        throw new UnsupportedRegexError(`"${c}" with nothing to repeat`);
      default: {
        const cp = this.src.codePointAt(this.#i - 1)!;
        if (cp > 0xffff) this.#i++;
        return char(eq(cp));
      }
    }
  }

  #quantified(atom: Node): Node {
    let min: number;
    let max: number;
    const c = this.#peek();
    if (c === '*') [min, max] = [0, Number.POSITIVE_INFINITY];
    else if (c === '+') [min, max] = [1, Number.POSITIVE_INFINITY];
    else if (c === '?') [min, max] = [0, 1];
    else if (c === '{') {
      const m = /^\{(\d+)(,(\d*))?\}/.exec(this.src.slice(this.#i));
      if (!m) throw new UnsupportedRegexError('malformed "{"');
      min = Number(m[1]);
      max = m[2] === undefined ? min : m[3] === '' ? Number.POSITIVE_INFINITY : Number(m[3]);
      if (min > MAX_QUANTIFIER || (max !== Number.POSITIVE_INFINITY && max > MAX_QUANTIFIER)) {
        throw new UnsupportedRegexError(`a quantifier above ${MAX_QUANTIFIER}`);
      }
      this.#i += m[0].length - 1;
    } else return atom;
    this.#i++;
    if (this.#peek() === '?') this.#i++; // lazy: same language
    return rep(atom, min, max);
  }

  #escape(inClass: boolean): Escape {
    const c = this.src[this.#i++];
    if (c === undefined) throw new UnsupportedRegexError('trailing "\\"');
    const cls = CLASS_ESCAPES[c];
    if (cls) return { cls };
    const control = CONTROL_ESCAPES[c];
    if (control !== undefined) return { cp: control };
    if (c === '0' && !isDigit(this.src.codePointAt(this.#i) ?? 0)) return { cp: 0 };
    if (c === 'b' && inClass) return { cp: 0x08 };
    if (c === 'x' || c === 'u') {
      const m =
        c === 'x'
          ? /^[0-9A-Fa-f]{2}/.exec(this.src.slice(this.#i))
          : /^(?:[0-9A-Fa-f]{4}|\{[0-9A-Fa-f]{1,6}\})/.exec(this.src.slice(this.#i));
      if (!m) throw new UnsupportedRegexError(`malformed "\\${c}"`);
      this.#i += m[0].length;
      return { cp: Number.parseInt(m[0].replace(/[{}]/g, ''), 16) };
    }
    if (SYNTAX.has(c)) return { cp: c.codePointAt(0)! };
    throw new UnsupportedRegexError(`"\\${c}"`);
  }

  #class(): Node {
    const negated = this.#peek() === '^';
    if (negated) this.#i++;
    const pairs: [number, number][] = [];
    while (this.#peek() !== ']') {
      if (this.#i >= this.src.length) throw new UnsupportedRegexError('unclosed "["');
      const lo = this.#classAtom();
      if (this.#peek() === '-' && this.src[this.#i + 1] !== ']' && this.#i + 1 < this.src.length) {
        this.#i++;
        const hi = this.#classAtom();
        if ('cls' in lo || 'cls' in hi) throw new UnsupportedRegexError('a class in a range');
        pairs.push([lo.cp, hi.cp]);
      } else if ('cls' in lo) {
        pairs.push(...rangesOf(lo.cls));
      } else {
        pairs.push([lo.cp, lo.cp]);
      }
    }
    this.#i++;
    const set = charSet(pairs);
    return char(negated ? complement(set) : set);
  }

  #classAtom(): Escape {
    if (this.src[this.#i] === '\\') {
      this.#i++;
      return this.#escape(true);
    }
    const cp = this.src.codePointAt(this.#i)!;
    this.#i += cp > 0xffff ? 2 : 1;
    return { cp };
  }
}

/** Parses a regular expression of the supported subset into an automaton node. */
export function parseRegexSubset(source: string): Node {
  return source === '' ? EMPTY : new Parser(source).parse();
}
