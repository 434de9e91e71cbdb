import type { IncomingMessage } from 'node:http';
import { SseHubError } from '../../errors.js';
import { checkTopicText, hasIdControlCharacter } from '../core/index.js';
import type { MatcherCache } from '../selectors/index.js';
import {
  compileSubscriptionSelector,
  type Selector,
  type SelectorMode,
} from '../selectors/index.js';

/**
 * Subscribe query parameters and how their values are read: draft 07's `topic`, and the current
 * spec's `match` (the default type, exact), `match_exact` (its explicit spelling) and
 * `match_<type>` for the other types, always in the type name's canonical form.
 */
const SELECTOR_PARAMS: ReadonlyMap<string, SelectorMode> = new Map([
  ['topic', 'template'], // draft 07
  ['match', 'exact'],
  ['match_exact', 'exact'],
  ['match_urlpattern', 'urlpattern'],
]);

/**
 * The spec reserves every parameter name that begins with `match` (ASCII case-insensitively) and
 * requires a 400 for those naming no supported type. Old drafts' camelCase names and other
 * spellings that plainly mean a supported type get a message naming the right one, because a
 * request that silently fell back to another type would subscribe to something else.
 */
function unknownMatcherParameter(name: string): SseHubError {
  const folded = name.toLowerCase().replaceAll('_', '');
  const meant = [...SELECTOR_PARAMS.keys()].find(
    (known) => known !== 'topic' && known.replaceAll('_', '') === folded,
  );
  const hint = meant === undefined ? '' : `; use ${meant}`;
  return new SseHubError(
    'INVALID_TOPIC',
    `unknown matcher parameter ${JSON.stringify(name)}${hint} (supported: match, match_exact, match_urlpattern, and topic of draft 07)`,
  );
}

export interface SubscribeParams {
  selectors: Selector[];
  /**
   * The requested last event id (header first, then query, then body), if any; `''` when a cursor
   * is present but empty (it names no event).
   */
  lastEventId: string | undefined;
}

/**
 * A subscribe request read with cheap checks only (parameter names, count, lengths, last event
 * id); `compile()` does the expensive part. The handler calls it once the token is verified, so a
 * request without a valid token cannot make the hub compile anything.
 */
export interface ParsedSubscribeParams {
  /** Selectors requested (deduplicated), not compiled yet. */
  readonly count: number;
  readonly lastEventId: string | undefined;
  /** Compiles the selectors within the budgets; throws INVALID_TOPIC or SELECTOR_TOO_COMPLEX. */
  compile(): SubscribeParams;
}

export interface SubscribeLimits {
  maxTopicsPerRequest: number;
  maxTopicLength: number;
  /** Budget of one pattern selector (automaton states + ε-edges, see nfa.ts). */
  maxSelectorCost: number;
  /** Budget of all pattern selectors of one subscription together. */
  maxSubscriberSelectorCost: number;
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** Query names of the cursor: draft 07's first, as before the current spec named its own. */
const CURSOR_PARAMS = ['lastEventID', 'last_event_id'] as const;

/**
 * The last event id: the first non-empty one of the `Last-Event-ID` header, then each source's
 * `lastEventID` / `last_event_id` in order (the query component, then a request body: the spec
 * gives the query's precedence when both carry one). A cursor that is present but empty is `''`:
 * it names no event, yet the spec wants `Mercure-Last-Event-ID` answered whenever the header or
 * parameter is present (upstream does the same). Undefined when none is present at all.
 */
export function requestedLastEventId(
  req: IncomingMessage,
  sources: URLSearchParams | readonly URLSearchParams[],
  maxLength: number,
): string | undefined {
  const fromHeader = header(req, 'last-event-id');
  let found = fromHeader === undefined || fromHeader === '' ? undefined : fromHeader;
  let present = fromHeader !== undefined;
  if (found === undefined) {
    for (const source of Array.isArray(sources) ? sources : [sources]) {
      let here = false;
      for (const name of CURSOR_PARAMS) {
        const value = (source as URLSearchParams).get(name);
        if (value === null) continue;
        here = true;
        if (value !== '' && found === undefined) found = value;
      }
      // The first source that carries a cursor decides, even an empty one (query over body).
      if (here) {
        present = true;
        break;
      }
    }
  }
  if (found === undefined) return present ? '' : undefined;
  const id = found === fromHeader ? decodeHeaderText(found) : found;
  // A control character never belongs to an id (published ids refuse them too), and it could
  // not be echoed back in the Last-Event-ID response header.
  if (hasIdControlCharacter(id) || id.length > maxLength)
    throw new SseHubError('INVALID_LAST_EVENT_ID');
  return id;
}

/**
 * Node reads header bytes as Latin-1, while browsers and our client send the id as UTF-8: decode
 * it as UTF-8 when that is valid (introduces no U+FFFD), else keep the Latin-1 text.
 */
function decodeHeaderText(value: string): string {
  // ASCII decodes to itself, so no fast path is needed for this once-per-request header.
  const decoded = Buffer.from(value, 'latin1').toString('utf8');
  return decoded.includes('\uFFFD') && !value.includes('\uFFFD') ? value : decoded;
}

/**
 * Reads the selectors of a subscribe request: `topic=` (exact, `*` or URI template), `match=` /
 * `match_exact=` (exact) and `match_urlpattern=` (URL pattern), deduplicated; one request may mix
 * them. Any other `match…` parameter names no supported matcher type and is refused. Only
 * cheap checks run here; the selectors compile in `compile()` of the result. `query` is every
 * parameter of the request (for a request with a body, the union of query and body);
 * `cursorSources` are its components in the order their last event id counts.
 */
export function parseSubscribeParams(
  req: IncomingMessage,
  query: URLSearchParams,
  limits: SubscribeLimits,
  cache: MatcherCache,
  cursorSources: readonly URLSearchParams[] = [query],
): ParsedSubscribeParams {
  const seen = new Set<string>();
  const wanted: { source: string; mode: SelectorMode }[] = [];
  for (const [name, value] of query) {
    const mode = SELECTOR_PARAMS.get(name);
    if (mode === undefined) {
      if (name.slice(0, 5).toLowerCase() === 'match') throw unknownMatcherParameter(name);
      continue;
    }
    checkTopicText(value, limits.maxTopicLength);
    const key = `${mode}\0${value}`;
    if (seen.has(key)) continue;
    seen.add(key);
    wanted.push({ source: value, mode });
    if (wanted.length > limits.maxTopicsPerRequest) {
      throw new SseHubError('TOO_MANY_TOPICS', `at most ${limits.maxTopicsPerRequest}`);
    }
  }
  if (wanted.length === 0) throw new SseHubError('MISSING_TOPIC');
  const lastEventId = requestedLastEventId(req, cursorSources, limits.maxTopicLength);
  return {
    count: wanted.length,
    lastEventId,
    compile: () => ({ selectors: compileSelectors(wanted, limits, cache), lastEventId }),
  };
}

/**
 * Compiles `wanted` within the budgets. Stops at the first selector over its own budget or that
 * takes the subscription past its total, so at most one selector's budget is spent in vain.
 */
function compileSelectors(
  wanted: readonly { source: string; mode: SelectorMode }[],
  limits: SubscribeLimits,
  cache: MatcherCache,
): Selector[] {
  let total = 0;
  return wanted.map(({ source, mode }, i) => {
    const selector = compileSubscriptionSelector(source, mode, cache, limits.maxSelectorCost);
    total += selector.cost;
    if (total > limits.maxSubscriberSelectorCost) {
      throw new SseHubError(
        'SELECTOR_TOO_COMPLEX',
        `the first ${i + 1} selectors of this subscription cost ${total} together (automaton states + ε-edges); the limit per subscriber (maxSubscriberSelectorCost) is ${limits.maxSubscriberSelectorCost}`,
      );
    }
    return selector;
  });
}
