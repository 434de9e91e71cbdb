/**
 * Reads what a verified JWT allows into Claims. The token's shape decides which rules apply
 * (see authorizer.ts, which also picks the validation rules by the same shape):
 *
 * Current spec (RFC 9068 access token): an RFC 9396 `authorization_details` claim. Only its Mercure
 * details count, those whose `type` is exactly `https://mercure.rocks/authorization-detail`
 * (compared byte by byte; any other `type`, `mercure` included, is another resource's detail and
 * grants nothing). A Mercure detail has `actions` (non-empty array of strings; unknown actions are
 * ignored, they grant nothing), `topics` (non-empty array of `{ match, match_type? }`, `match_type`
 * `exact` (default) or `urlpattern`; `*` matches every topic) and an optional `payload`, picked per
 * subscription (`payloadFor`). A `mercure` claim next to it is ignored. A malformed Mercure detail
 * rejects the whole token (no partial grant), as the spec requires.
 *
 * Draft 07 (hub 0.x), only a `mercure` claim: `{ "publish": [..], "subscribe": [..], "payload": ..
 * }`, the selectors in `template` syntax (exact, `*` or RFC 6570 template), or the object form
 * `{ "match": .., "match_type" | "matchType": .. }` that hub 1.0 alphas accepted there. Its one
 * `payload` goes with every subscription of the token.
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
import type { Claims, SubscribePayload } from './types.js';

/** The RFC 9396 `type` of a Mercure authorization detail, compared byte by byte. */
export const MERCURE_DETAIL_TYPE = 'https://mercure.rocks/authorization-detail';

/** The actions this hub knows; a detail's other actions are ignored (they grant nothing). */
const KNOWN_ACTIONS: ReadonlySet<string> = new Set(['publish', 'subscribe']);

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

/** The matcher kind a type name means; own keys only, so `"toString"` is no type. */
const kindOf = (table: Record<string, MatcherKind>, name: unknown): MatcherKind | undefined =>
  typeof name === 'string' && Object.hasOwn(table, name) ? table[name] : undefined;

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

  /**
   * A topic matcher object. `current` (an `authorization_details` token): `{ match, match_type? }`
   * only; `matchType` (older draft text) is refused rather than ignored, since ignoring it would
   * silently turn a URL-pattern grant into an exact one. Draft 07's object form takes either.
   */
  matcherObject(entry: unknown, where: string, current = false): CompiledSelector {
    if (!isObject(entry)) throw invalid(`${where}: a topic entry must be an object`);
    const { match, matchType, match_type: snake } = entry;
    if (typeof match !== 'string' || match === '') {
      throw invalid(`${where}: a topic entry needs a non-empty "match" string`);
    }
    if (current && matchType !== undefined) {
      throw invalid(`${where}: "matchType" is not a Mercure member; name the type "match_type"`);
    }
    const camelKind = kindOf(MATCH_TYPES, matchType);
    const snakeKind = kindOf(SNAKE_MATCH_TYPES, snake);
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

  /** The `authorization_details` claim; returns the subscribe details' payloads, in order. */
  current(details: unknown): SubscribePayload[] {
    if (!Array.isArray(details)) throw invalid('"authorization_details" must be an array');
    const payloads: SubscribePayload[] = [];
    details.forEach((detail, i) => {
      const where = `authorization_details[${i}]`;
      if (!isObject(detail) || typeof detail.type !== 'string') {
        throw invalid(`${where} must be an object with a "type" string`);
      }
      if (detail.type !== MERCURE_DETAIL_TYPE) return;
      const { actions, topics } = detail;
      if (!Array.isArray(actions) || actions.length === 0) {
        throw invalid(`${where}: "actions" must be a non-empty array`);
      }
      if (!actions.every((a) => typeof a === 'string')) {
        throw invalid(`${where}: every action must be a string`);
      }
      if (!Array.isArray(topics) || topics.length === 0) {
        throw invalid(`${where}: "topics" must be a non-empty array`);
      }
      // Compiled (and counted against the limits) even when no action is known: a malformed
      // detail rejects the token whatever its actions.
      const matchers = topics.map((entry) => this.matcherObject(entry, where, true));
      const known = new Set((actions as string[]).filter((a) => KNOWN_ACTIONS.has(a)));
      for (const action of known as Set<'publish' | 'subscribe'>) {
        for (const matcher of matchers) this[action].add(matcher);
      }
      if (known.has('subscribe')) {
        payloads.push(
          Object.hasOwn(detail, 'payload') ? { matchers, payload: detail.payload } : { matchers },
        );
      }
    });
    return payloads;
  }
}

/** Which claim shape a token has, and so which rules apply to it (see the module comment). */
export type TokenShape = 'current' | 'draft07';

/** `current` when the payload has an `authorization_details` member, else `draft07`. */
export function tokenShape(payload: JWTPayload): TokenShape {
  return Object.hasOwn(payload, 'authorization_details') ? 'current' : 'draft07';
}

/** Turns a verified JWT payload into Claims. Throws SseHubError('INVALID_TOKEN'). */
export function claimsFromPayload(payload: JWTPayload, options: ClaimsOptions): Claims {
  const reader = new Reader(options);
  const claims: Claims = {};
  if (tokenShape(payload) === 'current') {
    // Only the current grants: a `mercure` claim beside them is ignored, as upstream does.
    claims.subscribePayloads = reader.current(payload.authorization_details);
  } else if (payload.mercure !== undefined) {
    const legacy = reader.draft07(payload.mercure);
    if ('payload' in legacy) claims.payload = legacy.payload;
  }
  for (const action of ['publish', 'subscribe'] as const) {
    const grants = reader[action];
    if (!grants.granted) continue;
    claims[action] = grants.sources;
    claims[action === 'publish' ? 'publishMatchers' : 'subscribeMatchers'] = grants.matchers;
  }
  if (typeof payload.exp === 'number') claims.exp = payload.exp;
  return claims;
}

/**
 * The payload of the subscription whose own matcher string is `selector`: for a current-spec
 * token, the payload of the first subscribe detail one of whose topics matches that string taken
 * as a topic (a `*` topic matches every subscription); for a draft-07 token, its one payload.
 * Undefined when there is none.
 */
export function payloadFor(claims: Claims | undefined, selector: string): unknown {
  if (claims === undefined) return undefined;
  if (claims.subscribePayloads === undefined) return claims.payload;
  for (const entry of claims.subscribePayloads) {
    if (entry.matchers.some((m) => m.matches(selector))) return entry.payload;
  }
  return undefined;
}
