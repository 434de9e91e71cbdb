/**
 * WHATWG URL patterns (Mercure `match_urlpattern=`), matched in
 * linear time.
 *
 * The installed `urlpattern-polyfill` validates the pattern, resolves it against the base URL and
 * normalises each component; it is imported from its `/urlpattern` entry point, which does not
 * install a global. Its own `test()` compiles components to backtracking RegExps: `/:a{-:b}*x`
 * against an 80-character path took 73 s. The Mercure draft requires a linear-time engine or a
 * cost limit, so each normalised component is parsed here (URL Pattern standard, "parse a pattern
 * string") and turned into the automaton of nfa.ts instead, mirroring the standard's "generate a
 * regular expression" step part by part.
 */
import { URLPattern } from 'urlpattern-polyfill/urlpattern';
import { SseHubError } from '../../errors.js';
import {
  ANY,
  char,
  complement,
  eq,
  lit,
  Nfa,
  type Node,
  opt,
  PatternTooComplexError,
  rep,
  seq,
} from './nfa.js';
import { parseRegexSubset, UnsupportedRegexError } from './regex-subset.js';

const COMPONENTS = [
  'protocol',
  'username',
  'password',
  'hostname',
  'port',
  'pathname',
  'search',
  'hash',
] as const;
type Component = (typeof COMPONENTS)[number];

const SPECIAL_SCHEMES = ['ftp', 'file', 'http', 'https', 'ws', 'wss'];

interface Options {
  /** The segment delimiter: `:name` matches one or more characters other than it. */
  delimiter: string;
  /** The character that becomes a part's optional prefix (`/` in paths). */
  prefix: string;
}

type Token =
  | { type: 'char' | 'escaped' | 'name' | 'regex'; value: string }
  | { type: 'asterisk' | 'modifier' | 'open' | 'close' | 'end'; value: string };

const NAME_START = /[$_\p{ID_Start}]/u;
const ID_CONTINUE = /\p{ID_Continue}/u;
// ZWNJ and ZWJ are tested apart: in one class with other characters Biome reads them as joiners.
const NAME_PART = {
  test: (c: string) => c === '$' || c === '\u200C' || c === '\u200D' || ID_CONTINUE.test(c),
};

class PatternError extends Error {}

function tokenize(input: string): Token[] {
  const tokens: Token[] = [];
  const chars = [...input];
  let i = 0;
  while (i < chars.length) {
    const c = chars[i]!;
    if (c === '*') tokens.push({ type: 'asterisk', value: c });
    else if (c === '+' || c === '?') tokens.push({ type: 'modifier', value: c });
    else if (c === '{') tokens.push({ type: 'open', value: c });
    else if (c === '}') tokens.push({ type: 'close', value: c });
    else if (c === '\\') {
      const next = chars[++i];
      if (next === undefined) throw new PatternError('trailing "\\"');
      tokens.push({ type: 'escaped', value: next });
    } else if (c === ':') {
      let name = '';
      while (i + 1 < chars.length && (name ? NAME_PART : NAME_START).test(chars[i + 1]!)) {
        name += chars[++i];
      }
      if (!name) throw new PatternError('missing parameter name');
      tokens.push({ type: 'name', value: name });
    } else if (c === '(') {
      let depth = 1;
      let body = '';
      while (depth > 0) {
        const d = chars[++i];
        if (d === undefined) throw new PatternError('unbalanced "("');
        if (d === '\\') {
          body += d + (chars[++i] ?? '');
          continue;
        }
        if (d === '(') depth++;
        else if (d === ')' && --depth === 0) break;
        body += d;
      }
      tokens.push({ type: 'regex', value: body });
    } else tokens.push({ type: 'char', value: c });
    i++;
  }
  tokens.push({ type: 'end', value: '' });
  return tokens;
}

const MODIFIERS = { '': 'none', '?': 'optional', '*': 'zeroOrMore', '+': 'oneOrMore' } as const;
type Modifier = (typeof MODIFIERS)[keyof typeof MODIFIERS];

type Part =
  | { kind: 'fixed'; value: string; modifier: Modifier }
  | {
      kind: 'segment' | 'full' | 'regex';
      regex: string;
      prefix: string;
      suffix: string;
      modifier: Modifier;
    };

const escapeRegex = (s: string) => s.replace(/[.+*?^${}()[\]|/\\]/g, '\\$&');

/** URL Pattern standard, "parse a pattern string", on an already normalised component. */
function parseParts(input: string, options: Options): Part[] {
  const tokens = tokenize(input);
  const segmentWildcard = `[^${escapeRegex(options.delimiter)}]+?`;
  const parts: Part[] = [];
  let pending = '';
  let index = 0;
  const take = (type: Token['type']): string | undefined =>
    tokens[index]?.type === type ? tokens[index++]!.value : undefined;
  const takeModifier = (): Modifier =>
    MODIFIERS[(take('modifier') ?? take('asterisk') ?? '') as keyof typeof MODIFIERS];
  const takeText = (): string => {
    let text = '';
    for (
      let t = take('char') ?? take('escaped');
      t !== undefined;
      t = take('char') ?? take('escaped')
    ) {
      text += t;
    }
    return text;
  };
  const flush = () => {
    if (pending) parts.push({ kind: 'fixed', value: pending, modifier: 'none' });
    pending = '';
  };
  const addPart = (
    prefix: string,
    name: string | undefined,
    regex: string | undefined,
    suffix: string,
    modifier: Modifier,
  ) => {
    if (name === undefined && regex === undefined && modifier === 'none') {
      pending += prefix;
      return;
    }
    flush();
    if (name === undefined && regex === undefined) {
      if (prefix) parts.push({ kind: 'fixed', value: prefix, modifier });
      return;
    }
    const value = regex === undefined ? segmentWildcard : regex === '*' ? '.*' : regex;
    const kind = value === segmentWildcard ? 'segment' : value === '.*' ? 'full' : 'regex';
    parts.push({ kind, regex: value, prefix, suffix, modifier });
  };
  while (index < tokens.length) {
    const charToken = take('char');
    const name = take('name');
    let regex = take('regex');
    if (name === undefined && regex === undefined && take('asterisk') !== undefined) regex = '*';
    if (name !== undefined || regex !== undefined) {
      let prefix = charToken ?? '';
      if (prefix !== options.prefix) {
        pending += prefix;
        prefix = '';
      }
      flush();
      addPart(prefix, name, regex, '', takeModifier());
      continue;
    }
    const fixed = charToken ?? take('escaped');
    if (fixed !== undefined) {
      pending += fixed;
      continue;
    }
    if (take('open') !== undefined) {
      const prefix = takeText();
      const innerName = take('name');
      let innerRegex = take('regex');
      if (innerName === undefined && innerRegex === undefined && take('asterisk') !== undefined) {
        innerRegex = '*';
      }
      const suffix = takeText();
      if (take('close') === undefined) throw new PatternError('expected "}"');
      addPart(prefix, innerName, innerRegex, suffix, takeModifier());
      continue;
    }
    flush();
    if (take('end') === undefined) throw new PatternError(`unexpected "${tokens[index]?.value}"`);
  }
  return parts;
}

function repeat(item: Node, modifier: Modifier): Node {
  switch (modifier) {
    case 'none':
      return item;
    case 'optional':
      return opt(item);
    case 'zeroOrMore':
      return rep(item, 0, Number.POSITIVE_INFINITY);
    case 'oneOrMore':
      return rep(item, 1, Number.POSITIVE_INFINITY);
  }
}

/** URL Pattern standard, "generate a regular expression", with automaton nodes for RegExp text. */
function partsToNode(parts: Part[], options: Options): Node {
  const delimiter = options.delimiter.codePointAt(0);
  const segmentChars = delimiter === undefined ? ANY : complement(eq(delimiter));
  const items = parts.map((part): Node => {
    if (part.kind === 'fixed') return repeat(lit(part.value), part.modifier);
    const value =
      part.kind === 'segment'
        ? rep(char(segmentChars), 1, Number.POSITIVE_INFINITY)
        : part.kind === 'full'
          ? rep(char(ANY), 0, Number.POSITIVE_INFINITY)
          : parseRegexSubset(part.regex);
    if (!part.prefix && !part.suffix) return repeat(value, part.modifier);
    const [prefix, suffix] = [lit(part.prefix), lit(part.suffix)];
    if (part.modifier === 'none' || part.modifier === 'optional') {
      return repeat(seq(prefix, value, suffix), part.modifier);
    }
    const many = seq(
      prefix,
      value,
      rep(seq(suffix, prefix, value), 0, Number.POSITIVE_INFINITY),
      suffix,
    );
    return part.modifier === 'zeroOrMore' ? opt(many) : many;
  });
  return seq(...items);
}

function componentOptions(component: Component, specialScheme: boolean): Options {
  if (component === 'hostname') return { delimiter: '.', prefix: '' };
  if (component === 'pathname' && specialScheme) return { delimiter: '/', prefix: '/' };
  return { delimiter: '', prefix: '' };
}

/** The components of `url` as the URL Pattern standard compares them. */
function componentValues(url: URL): Record<Component, string> {
  return {
    protocol: url.protocol.slice(0, -1),
    username: url.username,
    password: url.password,
    hostname: url.hostname,
    port: url.port,
    pathname: url.pathname,
    search: url.search.slice(1),
    hash: url.hash.slice(1),
  };
}

/**
 * Topics parsed lately, with their components. The hub runs each topic of an update against every
 * URL-pattern group in a row; with one entry, an update of several topics would parse each of
 * them again for every group. Enough entries for the most topics one update may have.
 */
const PARSED_TOPICS = 128;
const parsed = new Map<string, Record<Component, string> | undefined>();

function parseTopic(
  topic: string,
  base: string | undefined,
): Record<Component, string> | undefined {
  const key = base === undefined ? topic : `${base}\u0000${topic}`;
  if (parsed.has(key)) return parsed.get(key);
  let values: Record<Component, string> | undefined;
  try {
    values = componentValues(new URL(topic, base));
  } catch {
    values = undefined;
  }
  if (parsed.size >= PARSED_TOPICS) parsed.delete(parsed.keys().next().value as string);
  parsed.set(key, values);
  return values;
}

/** How one component is matched, and what that costs per character (see nfa.ts). */
interface ComponentMatcher {
  readonly cost: number;
  matches(value: string): boolean;
}

/**
 * The literal text a component starts with is compared as a string (one pass, like one state),
 * the rest runs in the automaton: `https`, `example.com` and `/books` then cost 1 each instead of
 * a state per character, which leaves room in the budgets for the parts that vary.
 */
function componentMatcher(parts: Part[], options: Options, budget: number): ComponentMatcher {
  let prefix = '';
  let k = 0;
  for (; k < parts.length; k++) {
    const part = parts[k]!;
    if (part.kind !== 'fixed' || part.modifier !== 'none') break;
    prefix += part.value;
  }
  if (k === parts.length) {
    if (budget < 1) throw new PatternTooComplexError(budget);
    return { cost: 1, matches: (value) => value === prefix };
  }
  const nfa = new Nfa(partsToNode(parts.slice(k), options), budget - 1);
  return {
    cost: 1 + nfa.cost,
    matches: (value) => value.startsWith(prefix) && nfa.matches(value, prefix.length),
  };
}

/** A compiled URL pattern: `matches` runs in time linear in the topic's length. */
export interface UrlPatternMatcher {
  matches(topic: string): boolean;
  /**
   * 1 + the cost of each component's automaton (see nfa.ts): each component is matched against
   * a part of the topic, so the sum bounds the work per topic character. Also the cache weight.
   */
  readonly cost: number;
}

/**
 * Compiles a URL pattern. Relative patterns (and topics) resolve against `baseURL`; without one
 * a relative pattern is invalid. Throws SseHubError('INVALID_TOPIC'), or PatternTooComplexError
 * as soon as the automata together would cost more than `maxCost`.
 */
export function compileUrlPattern(
  source: string,
  baseURL: string | undefined,
  maxCost: number,
): UrlPatternMatcher {
  const invalid = (why: string) =>
    new SseHubError('INVALID_TOPIC', `invalid URL pattern ${JSON.stringify(source)}: ${why}`);
  let pattern: URLPattern;
  try {
    pattern = baseURL === undefined ? new URLPattern(source) : new URLPattern(source, baseURL);
  } catch (err) {
    throw invalid(err instanceof Error ? err.message : String(err));
  }
  const matchers = new Map<Component, ComponentMatcher>();
  let cost = 1;
  try {
    for (const component of COMPONENTS) {
      const text = pattern[component];
      if (text === '*') continue; // the default wildcard: nothing to match
      const protocol = matchers.get('protocol');
      const special =
        protocol === undefined || SPECIAL_SCHEMES.some((scheme) => protocol.matches(scheme));
      const options = componentOptions(component, special);
      // The components share one budget: each gets what the ones before it left.
      const matcher = componentMatcher(parseParts(text, options), options, maxCost - cost);
      cost += matcher.cost;
      matchers.set(component, matcher);
    }
  } catch (err) {
    if (err instanceof PatternTooComplexError) throw new PatternTooComplexError(maxCost);
    if (err instanceof UnsupportedRegexError || err instanceof PatternError) {
      throw invalid(err.message);
    }
    throw err;
  }
  return {
    cost,
    matches(topic) {
      const values = parseTopic(topic, baseURL);
      if (values === undefined) return false;
      for (const [component, matcher] of matchers) {
        if (!matcher.matches(values[component])) return false;
      }
      return true;
    },
  };
}
