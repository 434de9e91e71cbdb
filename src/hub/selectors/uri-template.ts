/**
 * RFC 6570 URI templates read backwards: does a topic belong to the set of URIs that some values
 * of the variables would expand the template to? Mercure draft 07 uses this for `topic=` and for
 * the selectors in `mercure.publish` / `mercure.subscribe`.
 *
 * Semantics, per operator (RFC 6570 §3.2), where a "value unit" is an unreserved character, a
 * `%XX` triplet or — so that IRI topics work — any non-ASCII character:
 * - `{var}` `{.var}` `{/var}`: value units (and `,` for lists); `/`, `?`, `#`… are never inside a
 *   value, because expansion percent-encodes them. `{+var}` `{#var}` also allow reserved characters.
 * - `{;x}` `{?x}` `{&x}`: `name=value` pairs; exploded (`*`) variables repeat with the separator.
 * - `{var:3}`: at most 3 value units.
 * - Undefined variables expand to nothing, so `/books/{id}` matches `/books/` too.
 *
 * Why not the installed `uri-template-matcher`: it backtracks (a 60-character topic against
 * `{a}{b}{c}{d}{e}x` takes 150 ms and grows polynomially), throws on malformed `%` sequences, and
 * lets `{id}` swallow `?`, `#` and `:`, which widens what a JWT selector grants.
 */
import { SseHubError } from '../../errors.js';
import {
  alt,
  type CharSet,
  char,
  charSet,
  charsOf,
  EMPTY,
  lit,
  Nfa,
  type Node,
  opt,
  rep,
  seq,
  union,
} from './nfa.js';

interface Operator {
  first: string;
  sep: string;
  named: boolean;
  /** What a named variable with an empty value expands to after its name. */
  ifEmpty: '' | '=';
  allowReserved: boolean;
}

const OPERATORS: Record<string, Operator> = {
  '': { first: '', sep: ',', named: false, ifEmpty: '', allowReserved: false },
  '+': { first: '', sep: ',', named: false, ifEmpty: '', allowReserved: true },
  '#': { first: '#', sep: ',', named: false, ifEmpty: '', allowReserved: true },
  '.': { first: '.', sep: '.', named: false, ifEmpty: '', allowReserved: false },
  '/': { first: '/', sep: '/', named: false, ifEmpty: '', allowReserved: false },
  ';': { first: ';', sep: ';', named: true, ifEmpty: '', allowReserved: false },
  '?': { first: '?', sep: '&', named: true, ifEmpty: '=', allowReserved: false },
  '&': { first: '&', sep: '&', named: true, ifEmpty: '=', allowReserved: false },
};

/** RFC 6570 §2.2: reserved for future extensions, so a template using them is invalid. */
const RESERVED_OPERATORS = new Set(['=', ',', '!', '@', '|']);

/** varname *( "." varname-part ), each char ALPHA / DIGIT / "_" / pct-encoded; then `:n` or `*`. */
const VARSPEC =
  /^((?:[A-Za-z0-9_]|%[0-9A-Fa-f]{2})(?:\.?(?:[A-Za-z0-9_]|%[0-9A-Fa-f]{2}))*)(?::([1-9][0-9]{0,3})|(\*))?$/;

const UNRESERVED = charsOf('ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~');
const RESERVED = charsOf(":/?#[]@!$&'()*+,;=");

/** ucschar / iprivate (RFC 3987), loosely: any non-ASCII code point but C1 controls and lone surrogates. */
const IRI = charSet([
  [0xa0, 0xd7ff],
  [0xe000, 0x10ffff],
]);
/** Hex digits in either case; `hex('89AB')` is those digits (and their lower case). */
const hex = (digits: string): CharSet => charsOf(digits + digits.toLowerCase());
const HEX = hex('0123456789ABCDEF');
const triplet = (high: string) => seq(lit('%'), char(hex(high)), char(HEX));
const PERCENT = seq(lit('%'), char(HEX), char(HEX));
/** A UTF-8 character as triplets: one ASCII byte, or a lead byte and 1–3 continuation bytes. */
const UTF8_TRIPLETS = [
  triplet('01234567'),
  seq(triplet('CDEF'), rep(triplet('89AB'), 1, 3)),
] as const;

/**
 * The characters a value may hold as such (not percent-encoded), plus `extra` (separators a
 * list value may contain). One shared set per combination, so automata share their classes.
 */
const plainSets = new Map<string, CharSet>();
function plain(allowReserved: boolean, extra = ''): CharSet {
  const key = `${allowReserved}${extra}`;
  let set = plainSets.get(key);
  if (set === undefined) {
    set = union(UNRESERVED, IRI, allowReserved ? RESERVED : [], charsOf(extra));
    plainSets.set(key, set);
  }
  return set;
}

/**
 * One character of a value as expansion writes it, or one of `extra`. In general any `%XX`
 * triplet counts; under a prefix modifier (`{var:3}` counts characters before encoding) a
 * non-ASCII character is one UTF-8 lead triplet and its 1–3 continuation triplets, so `{var:1}`
 * matches `%C3%A9` (é).
 */
function valueUnit(allowReserved: boolean, counted = false, extra = ''): Node {
  const chars = char(plain(allowReserved, extra));
  if (!counted) return alt(chars, PERCENT);
  return alt(chars, ...UTF8_TRIPLETS);
}

const invalid = (template: string, why: string): SseHubError =>
  new SseHubError('INVALID_TOPIC', `invalid URI template ${JSON.stringify(template)}: ${why}`);

function variable(op: Operator, name: string, prefix: number | undefined, explode: boolean): Node {
  const unit = valueUnit(op.allowReserved);
  const units = (min: number) => rep(unit, min, Number.POSITIVE_INFINITY);
  const upTo = (n: number) => rep(valueUnit(op.allowReserved, true), 0, n);
  if (!op.named) {
    if (prefix !== undefined) return upTo(prefix);
    // A list joins its items with `,` (or the operator's separator when exploded); an exploded
    // associative array adds `key=value`.
    const extra = explode ? `=${op.sep}` : ',';
    return rep(valueUnit(op.allowReserved, false, extra), 0, Number.POSITIVE_INFINITY);
  }
  if (explode) {
    // `name=v;name=w` for a list, `k=v;k2=w` for an associative array (keys are arbitrary).
    const item = seq(units(1), opt(seq(lit('='), units(0))));
    return seq(item, rep(seq(lit(op.sep), item), 0, Number.POSITIVE_INFINITY));
  }
  const value =
    prefix !== undefined
      ? upTo(prefix)
      : rep(valueUnit(op.allowReserved, false, ','), 0, Number.POSITIVE_INFINITY);
  const assigned = seq(lit('='), value);
  return seq(lit(name), op.ifEmpty === '' ? alt(EMPTY, assigned) : assigned);
}

function expression(template: string, body: string): Node {
  const head = body.charAt(0);
  if (RESERVED_OPERATORS.has(head)) throw invalid(template, `reserved operator "${head}"`);
  const opKey = head !== '' && Object.hasOwn(OPERATORS, head) ? head : '';
  const op = OPERATORS[opKey]!;
  const specs = body.slice(opKey.length).split(',');
  const items = specs.map((spec) => {
    const m = VARSPEC.exec(spec);
    if (!m) throw invalid(template, `bad variable "${spec}"`);
    return variable(op, m[1]!, m[2] === undefined ? undefined : Number(m[2]), m[3] === '*');
  });
  return { t: 'sublist', first: lit(op.first), items, sep: lit(op.sep) };
}

/** A compiled template: `matches` runs in time linear in the topic's length. */
export interface UriTemplateMatcher {
  matches(topic: string): boolean;
  /** The automaton's cost (states + ε-edges, see nfa.ts): work per character and cache weight. */
  readonly cost: number;
}

/**
 * Compiles an RFC 6570 template (levels 1–4). Throws SseHubError('INVALID_TOPIC'), or
 * PatternTooComplexError as soon as the automaton would cost more than `maxCost`.
 */
export function compileUriTemplate(template: string, maxCost: number): UriTemplateMatcher {
  // The literal text before the first expression is checked with startsWith; most topics fail
  // there, without running the automaton.
  const open = template.indexOf('{');
  const prefix = open === -1 ? template : template.slice(0, open);
  if (prefix.includes('}')) throw invalid(template, 'unmatched "}"');
  const nodes: Node[] = [];
  let i = prefix.length;
  while (i < template.length) {
    const c = template[i]!;
    if (c === '{') {
      const close = template.indexOf('}', i + 1);
      if (close === -1) throw invalid(template, 'unclosed "{"');
      const body = template.slice(i + 1, close);
      if (body.includes('{')) throw invalid(template, 'nested "{"');
      if (body === '') throw invalid(template, 'empty expression');
      nodes.push(expression(template, body));
      i = close + 1;
    } else if (c === '}') {
      throw invalid(template, 'unmatched "}"');
    } else {
      const cp = template.codePointAt(i)!;
      nodes.push(lit(String.fromCodePoint(cp)));
      i += cp > 0xffff ? 2 : 1;
    }
  }
  // The literal prefix costs no automaton states: startsWith compares it at most once per match.
  const nfa = new Nfa(seq(...nodes), maxCost);
  return {
    matches: (topic) => topic.startsWith(prefix) && nfa.matches(topic, prefix.length),
    cost: nfa.cost,
  };
}
