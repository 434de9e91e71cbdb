/**
 * The regular expressions allowed inside URL-pattern groups (`:id(\\d+)`), parsed into the linear
 * automaton of nfa.ts rather than run by the backtracking RegExp engine.
 *
 * The rule: a construct is accepted when it describes a regular language the automaton can match
 * one character at a time, so matching stays linear in the topic's length (the spec's "MUST use
 * an engine that guarantees linear-time matching"); anything else is refused with a message that
 * names it and says why (docs/hub.md has the table).
 *
 * Accepted: literals, `.`, classes `[a-z]` `[^/]`, `\d \w \s` and their negations, `\p{…}`
 * `\P{…}` (see asciiPropertySet), control escapes (`\n`, `\cJ`, `\x41`, `\u{…}`), groups `(…)`
 * `(?:…)` and named groups `(?<name>…)` (capturing changes nothing when only match / no match
 * matters), `|`, and the quantifiers `* + ? {n} {n,} {n,m}`, lazy or not.
 * Refused: back-references (`\1`, `\k<name>`: not regular at all), lookahead and lookbehind
 * (a second match run from each position: backtracking, or automata that multiply), anchors and
 * `\b` `\B` (zero-width assertions: this automaton has states for characters only), and inline
 * modifiers `(?i:…)` (the spec forbids ignoreCase).
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

/** Why each refused construct cannot run in the hub's linear-time automaton (for the 400). */
const WHY = {
  backReference:
    'a back-reference matches text captured earlier, which no finite automaton can do; a backtracking engine needs exponential time for it',
  lookaround:
    'it runs a second match from each position: backtracking, or automata whose size multiplies, not linear-time matching',
  assertion:
    'it is a zero-width test of the neighbouring characters, and the linear-time automaton has states for characters only',
  modifier: 'inline flags are not supported (the spec forbids ignoreCase)',
} as const;

function refused(construct: string, why: keyof typeof WHY): UnsupportedRegexError {
  return new UnsupportedRegexError(`${construct}: ${WHY[why]}`);
}

/** ASCII, the only characters a URL component holds once parsed (see asciiPropertySet). */
const ASCII_CHARS = Array.from({ length: 0x80 }, (_, cp) => String.fromCharCode(cp));

/**
 * The set of `\p{…}` (or `\P{…}`) as a URL pattern can see it: its ASCII members. The URL
 * parser percent-encodes every character above U+007E in every component (IDNA turns hosts into
 * ASCII), so a topic's components hold ASCII only and the rest of the property never takes part
 * in a match. This keeps the set exact for URL patterns and costs 128 tests, where the full set
 * (1.1 million code points) would take 40–120 ms per property. `body` was validated by the
 * polyfill's `u`-flag RegExp; an unknown property still throws here.
 */
function asciiPropertySet(letter: 'p' | 'P', body: string): CharSet {
  let test: RegExp;
  try {
    test = new RegExp(`^\\${letter}{${body}}$`, 'u');
  } catch {
    throw new UnsupportedRegexError(`unknown property "\\${letter}{${body}}"`);
  }
  const pairs: [number, number][] = [];
  ASCII_CHARS.forEach((c, cp) => {
    if (test.test(c)) pairs.push([cp, cp]);
  });
  return charSet(pairs);
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
        if (this.#peek() === '?') this.#groupKind();
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
        throw refused(`the anchor "${c}"`, 'assertion');
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

  /** After `(?`: passes a non-capturing or named group's opening, refuses the rest. */
  #groupKind(): void {
    const rest = this.src.slice(this.#i + 1);
    if (rest.startsWith(':')) {
      this.#i += 2;
      return;
    }
    if (rest.startsWith('=') || rest.startsWith('!')) {
      throw refused(`the lookahead "(?${rest[0]}"`, 'lookaround');
    }
    if (rest.startsWith('<=') || rest.startsWith('<!')) {
      throw refused(`the lookbehind "(?${rest.slice(0, 2)}"`, 'lookaround');
    }
    const named = /^<[^>]+>/.exec(rest);
    if (named) {
      // A named group matches what the group matches: the name only labels the capture.
      this.#i += 1 + named[0].length;
      return;
    }
    throw refused(`the inline modifier "(?${rest.slice(0, 2)}"`, 'modifier');
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
    if (c === 'b' || c === 'B') throw refused(`the word boundary "\\${c}"`, 'assertion');
    if (c >= '1' && c <= '9') throw refused(`the back-reference "\\${c}"`, 'backReference');
    if (c === 'k') throw refused('the back-reference "\\k<…>"', 'backReference');
    if (c === 'p' || c === 'P') {
      const m = /^\{([^}]+)\}/.exec(this.src.slice(this.#i));
      if (!m) throw new UnsupportedRegexError(`malformed "\\${c}"`);
      this.#i += m[0].length;
      return { cls: asciiPropertySet(c, m[1]!) };
    }
    if (c === 'c') {
      const letter = this.src[this.#i];
      if (letter === undefined || !/[A-Za-z]/.test(letter)) {
        throw new UnsupportedRegexError('malformed "\\c"');
      }
      this.#i++;
      return { cp: letter.charCodeAt(0) % 32 };
    }
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
