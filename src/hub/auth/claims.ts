/**
 * Reads what a verified JWT allows, from either Mercure claim shape, into Claims.
 *
 * Draft 07 (hub 0.x): `{ "mercure": { "publish": [..], "subscribe": [..], "payload": .. } }`, the
 * selectors being `template` syntax (exact, `*` or RFC 6570 template). The object form
 * `{ "match": .., "match_type": .. }` that hub 1.0 also accepts there is read as below.
 *
 * Draft 08 (hub 1.0), RFC 9396 `authorization_details`: an array of objects; the Mercure ones are
 * `{ "type": "mercure", "actions": ["publish" | "subscribe", ..], "topics": [{ "match": "..",
 * "matchType": "Exact" | "URLPattern" }], "payload": {..} }`. `matchType` defaults to `Exact`; `*`
 * matches every topic in any type. Entries of other types are ignored (RFC 9396 lets a token carry
 * details for other resources). What we found in the Mercure sources while the draft is still
 * moving, and accept:
 * - `type`: `mercure` (draft text) or `https://mercure.rocks/authorization-detail` (hub 1.0
 *   releases and their documentation);
 * - the matcher type as `matchType: "Exact" | "URLPattern"` (draft text) or
 *   `match_type: "exact" | "urlpattern"` (hub 1.0).
 * As the draft requires, a malformed Mercure entry rejects the whole token (no partial grant).
 *
 * Both claims may appear; their grants are merged. The draft gives each `subscribe` entry its own
 * payload, picked per subscription; Claims holds one, so `payload` is `mercure.payload` when
 * present, else the first payload of a `subscribe` entry.
 */
import type { JWTPayload } from 'jose';
import { isSseHubError, SseHubError } from '../../errors.js';
import type { TopicMatcher } from '../selectors/index.js';
import {
  type CompiledSelector,
  compileSelector,
  DEFAULT_MAX_SELECTOR_SET_COST,
  type MatcherKind,
} from '../selectors/index.js';
import type { Claims } from './types.js';

/** RFC 9396 `type` values that mean a Mercure authorization detail (see the module comment). */
export const MERCURE_DETAIL_TYPES: readonly string[] = [
  'mercure',
  'https://mercure.rocks/authorization-detail',
];

export interface ClaimsOptions {
  /** Most selectors one token may carry, over both claims and both actions. */
  maxSelectors: number;
  /** The hub's URL, for relative URL-pattern selectors. */
  baseURL?: string;
  /**
   * Budget of one template or URL pattern (automaton states + ε-edges, see nfa.ts); default
   * DEFAULT_MAX_SELECTOR_COST. A selector over it rejects the whole token (see `Reader.compile`).
   */
  maxSelectorCost?: number;
  /**
   * Budget of a token's selectors for one action together (same measure): the publish selectors
   * run on every publish, the subscribe ones on every private update, per subscriber. Default
   * DEFAULT_MAX_SELECTOR_SET_COST (the hub passes its `maxSubscriberSelectorCost`).
   */
  maxSelectorSetCost?: number;
}

const invalid = (detail: string) => new SseHubError('INVALID_TOKEN', detail);

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

class Grants {
  readonly sources: string[] = [];
  readonly matchers: TopicMatcher[] = [];
  granted = false;
  readonly #seen = new Set<TopicMatcher>();
  #cost = 0;

  constructor(
    readonly action: 'publish' | 'subscribe',
    readonly maxCost: number,
  ) {}

  add(matcher: CompiledSelector): void {
    this.granted = true;
    // compileSelector returns one object per (selector, syntax), so identity is a cheap dedupe.
    if (this.#seen.has(matcher)) return;
    this.#cost += matcher.cost;
    if (this.#cost > this.maxCost) {
      throw invalid(
        `the token's ${this.action} selectors cost more than ${this.maxCost} together (maxSubscriberSelectorCost)`,
      );
    }
    this.#seen.add(matcher);
    this.sources.push(matcher.source);
    this.matchers.push(matcher);
  }
}

const MATCH_TYPES: Record<string, MatcherKind> = { Exact: 'exact', URLPattern: 'urlpattern' };
const SNAKE_MATCH_TYPES: Record<string, MatcherKind> = { exact: 'exact', urlpattern: 'urlpattern' };

class Reader {
  readonly publish: Grants;
  readonly subscribe: Grants;
  #count = 0;

  constructor(readonly options: ClaimsOptions) {
    const maxCost = options.maxSelectorSetCost ?? DEFAULT_MAX_SELECTOR_SET_COST;
    this.publish = new Grants('publish', maxCost);
    this.subscribe = new Grants('subscribe', maxCost);
  }

  compile(source: string, kind: MatcherKind): CompiledSelector {
    if (++this.#count > this.options.maxSelectors) {
      throw invalid(`the token carries more than ${this.options.maxSelectors} topic selectors`);
    }
    try {
      return compileSelector(source, kind, {
        baseURL: this.options.baseURL,
        maxCost: this.options.maxSelectorCost,
      });
    } catch (err) {
      if (isSseHubError(err, 'INVALID_TOPIC')) {
        throw invalid(`the token carries an invalid topic selector: ${err.detail ?? ''}`);
      }
      // Refused, not skipped: dropping a selector would grant less than the issuer wrote, and
      // silently (a publish or a private update failing later, far from the cause), and the
      // draft already rejects a whole token for one malformed entry. The issuer is trusted, so
      // an over-budget selector is a mistake to surface, and the 401 costs nothing to retry.
      if (isSseHubError(err, 'SELECTOR_TOO_COMPLEX')) {
        throw invalid(`the token carries a topic selector over budget: ${err.detail ?? ''}`);
      }
      throw err;
    }
  }

  /** `{ match, matchType | match_type }`, the draft-08 topic matcher object. */
  matcherObject(entry: unknown, where: string): CompiledSelector {
    if (!isObject(entry)) throw invalid(`${where}: a topic entry must be an object`);
    const { match, matchType, match_type: snake } = entry;
    if (typeof match !== 'string' || match === '') {
      throw invalid(`${where}: a topic entry needs a non-empty "match" string`);
    }
    const camelKind = matchType === undefined ? undefined : MATCH_TYPES[String(matchType)];
    const snakeKind = snake === undefined ? undefined : SNAKE_MATCH_TYPES[String(snake)];
    if ((matchType !== undefined && !camelKind) || (snake !== undefined && !snakeKind)) {
      throw invalid(`${where}: unknown matcher type ${JSON.stringify(matchType ?? snake)}`);
    }
    if (camelKind && snakeKind && camelKind !== snakeKind) {
      throw invalid(`${where}: "matchType" and "match_type" disagree`);
    }
    return this.compile(match, camelKind ?? snakeKind ?? 'exact');
  }

  draft07(claim: unknown): { payload?: unknown } {
    if (!isObject(claim)) throw invalid('the "mercure" claim must be an object');
    for (const action of ['publish', 'subscribe'] as const) {
      const list = claim[action];
      if (list === undefined) continue;
      if (!Array.isArray(list)) throw invalid(`"mercure.${action}" must be an array`);
      const grants = this[action];
      grants.granted = true;
      for (const entry of list) {
        grants.add(
          typeof entry === 'string'
            ? this.compile(entry, 'template')
            : this.matcherObject(entry, `"mercure.${action}"`),
        );
      }
    }
    return Object.hasOwn(claim, 'payload') ? { payload: claim.payload } : {};
  }

  draft08(details: unknown): { payload?: unknown } {
    if (!Array.isArray(details)) throw invalid('"authorization_details" must be an array');
    let payload: { payload?: unknown } = {};
    details.forEach((detail, i) => {
      const where = `authorization_details[${i}]`;
      if (!isObject(detail) || typeof detail.type !== 'string') {
        throw invalid(`${where} must be an object with a "type" string`);
      }
      if (!MERCURE_DETAIL_TYPES.includes(detail.type)) return;
      const { actions, topics } = detail;
      if (!Array.isArray(actions) || actions.length === 0) {
        throw invalid(`${where}: "actions" must be a non-empty array`);
      }
      for (const action of actions) {
        if (action !== 'publish' && action !== 'subscribe') {
          throw invalid(`${where}: unknown action ${JSON.stringify(action)}`);
        }
      }
      if (!Array.isArray(topics) || topics.length === 0) {
        throw invalid(`${where}: "topics" must be a non-empty array`);
      }
      const matchers = topics.map((entry) => this.matcherObject(entry, where));
      for (const action of new Set(actions as ('publish' | 'subscribe')[])) {
        for (const matcher of matchers) this[action].add(matcher);
      }
      if (
        actions.includes('subscribe') &&
        !('payload' in payload) &&
        Object.hasOwn(detail, 'payload')
      ) {
        payload = { payload: detail.payload };
      }
    });
    return payload;
  }
}

/** Turns a verified JWT payload into Claims. Throws SseHubError('INVALID_TOKEN'). */
export function claimsFromPayload(payload: JWTPayload, options: ClaimsOptions): Claims {
  const reader = new Reader(options);
  const legacy = payload.mercure === undefined ? {} : reader.draft07(payload.mercure);
  const details =
    payload.authorization_details === undefined
      ? {}
      : reader.draft08(payload.authorization_details);
  const claims: Claims = {};
  for (const action of ['publish', 'subscribe'] as const) {
    const grants = reader[action];
    if (!grants.granted) continue;
    claims[action] = grants.sources;
    claims[action === 'publish' ? 'publishMatchers' : 'subscribeMatchers'] = grants.matchers;
  }
  if ('payload' in legacy) claims.payload = legacy.payload;
  else if ('payload' in details) claims.payload = details.payload;
  if (typeof payload.exp === 'number') claims.exp = payload.exp;
  return claims;
}
