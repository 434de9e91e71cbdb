import type { SelectorMode } from '../selectors/index.js';

// The two shapes of a subscription document, their topics, and how one shape is read as the
// other. Current spec: `{prefix}/{match_type}/{match}/{subscriber}`, JSON, `type: subscription`.
// Draft 07 (hub 0.x): `{prefix}/{topic}/{subscriber}`, JSON-LD, `type: Subscription`.

/** The JSON-LD context of every draft-07 subscription document. */
export const MERCURE_CONTEXT = 'https://mercure.rocks/';
/** Topics of subscription events, and the path of the subscriptions API, for the default hub path. */
export const SUBSCRIPTIONS_TOPIC_PREFIX = '/.well-known/mercure/subscriptions';
/** SSE `event` of current-spec subscription events; publishers cannot use it. */
export const SUBSCRIPTION_EVENT_TYPE = 'mercure';
/** The matcher types of the current spec, in their canonical case (URL path segments too). */
export const MATCH_TYPES: readonly MatchType[] = ['exact', 'urlpattern'];

export type MatchType = 'exact' | 'urlpattern';

/** Which generation a document, an event or an API answer speaks. */
export type SubscriptionShape = 'current' | 'draft07';

/** One subscription in the current spec's shape (events and API). */
export interface SubscriptionDocument {
  /** The event's topic: `{prefix}/{match_type}/{match}/{subscriber}`. */
  id: string;
  type: 'subscription';
  match_type: MatchType;
  /** The matcher the subscriber gave. */
  match: string;
  /** The subscriber's id, `urn:uuid:…`. */
  subscriber: string;
  active: boolean;
  /** The `payload` attached to this subscription by the subscriber's token, when any. */
  payload?: unknown;
}

/** One subscription in the draft-07 shape (JSON-LD). */
export interface Draft07SubscriptionDocument {
  '@context'?: string;
  /** The subscription's topic URL: `{prefix}/{topic}/{subscriber}`. */
  id: string;
  type: 'Subscription';
  /** The topic selector the subscriber gave. */
  topic: string;
  subscriber: string;
  active: boolean;
  payload?: unknown;
}

export type AnySubscriptionDocument = SubscriptionDocument | Draft07SubscriptionDocument;

/** The documents of each shape, by shape. */
export interface ShapedDocument {
  current: SubscriptionDocument;
  draft07: Draft07SubscriptionDocument;
}

/** What a subscription is, whatever shape it is shown in. */
export interface SubscriptionFacts {
  source: string;
  mode: SelectorMode;
  subscriber: string;
  active: boolean;
  payload: unknown;
}

export function isMatchType(text: string): text is MatchType {
  return text === 'exact' || text === 'urlpattern';
}

/** `{hub path}/subscriptions`: subscription topics and the API follow the hub's path. */
export function subscriptionsPrefix(hubPath: string): string {
  return `${hubPath === '/' ? '' : hubPath}/subscriptions`;
}

/**
 * Strict RFC 3986 encoding: everything but unreserved characters is percent-encoded.
 * `encodeURIComponent` leaves `!'()*` as they are, and a `{/topic}` template (RFC 6570) only
 * matches unreserved characters and escapes, so a subscription to `*` would never match it.
 */
export function encodeSegment(text: string): string {
  return encodeURIComponent(text).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

/**
 * Draft 07: the topic of a subscription (and its URL in the API). `topic` and `subscriber` are each
 * percent-encoded exactly once, as a whole. Without a topic, the collection of all subscriptions;
 * without a subscriber, the collection for that topic.
 */
export function subscriptionTopic(
  topic?: string,
  subscriber?: string,
  prefix = SUBSCRIPTIONS_TOPIC_PREFIX,
): string {
  if (topic === undefined) return prefix;
  const base = `${prefix}/${encodeSegment(topic)}`;
  return subscriber === undefined ? base : `${base}/${encodeSegment(subscriber)}`;
}

/**
 * Current spec: `{prefix}/{match_type}[/{match}[/{subscriber}]]`, each variable percent-encoded
 * exactly once, as a whole (`match=*` is `/exact/%2A/…`). `{match_type}` alone is ssehub's
 * collection of one matcher type.
 */
export function matcherSubscriptionTopic(
  matchType?: MatchType,
  match?: string,
  subscriber?: string,
  prefix = SUBSCRIPTIONS_TOPIC_PREFIX,
): string {
  if (matchType === undefined) return prefix;
  let topic = `${prefix}/${matchType}`;
  if (match === undefined) return topic;
  topic += `/${encodeSegment(match)}`;
  return subscriber === undefined ? topic : `${topic}/${encodeSegment(subscriber)}`;
}

/**
 * A draft-07 `topic=` selector without template expressions selects exactly that string: the
 * same meaning as the current spec's `exact` matcher, so it can be shown in both shapes. One with
 * expressions has no registered current-spec matcher type (`template` is not one).
 */
export function isPlainTemplate(source: string): boolean {
  return !source.includes('{');
}

/** The current-spec matcher of a selector, or undefined when that shape cannot say it. */
export function currentMatcher(
  source: string,
  mode: SelectorMode,
): { matchType: MatchType; match: string } | undefined {
  if (mode === 'template') {
    return isPlainTemplate(source) ? { matchType: 'exact', match: source } : undefined;
  }
  return { matchType: mode, match: source };
}

/**
 * The draft-07 topic of a selector, or undefined for a URL pattern: a draft-07 client reads
 * `topic` as an RFC 6570 template, which would mean something else.
 */
export function draft07Topic(source: string, mode: SelectorMode): string | undefined {
  return mode === 'urlpattern' ? undefined : source;
}

/** The shape a subscription made with `mode` is announced and stored in first. */
export function ownShape(mode: SelectorMode): SubscriptionShape {
  return mode === 'template' ? 'draft07' : 'current';
}

/** The subscription in `shape`, or undefined when that shape cannot say what it selects. */
export function documentIn<S extends SubscriptionShape>(
  shape: S,
  facts: SubscriptionFacts,
  prefix: string,
): ShapedDocument[S] | undefined {
  if (shape === 'current') {
    const m = currentMatcher(facts.source, facts.mode);
    if (m === undefined) return undefined;
    const doc: SubscriptionDocument = {
      id: matcherSubscriptionTopic(m.matchType, m.match, facts.subscriber, prefix),
      type: 'subscription',
      match_type: m.matchType,
      match: m.match,
      subscriber: facts.subscriber,
      active: facts.active,
    };
    if (facts.payload !== undefined) doc.payload = facts.payload;
    return doc as ShapedDocument[S];
  }
  const topic = draft07Topic(facts.source, facts.mode);
  if (topic === undefined) return undefined;
  const doc: Draft07SubscriptionDocument = {
    id: subscriptionTopic(topic, facts.subscriber, prefix),
    type: 'Subscription',
    topic,
    subscriber: facts.subscriber,
    active: facts.active,
  };
  if (facts.payload !== undefined) doc.payload = facts.payload;
  return doc as ShapedDocument[S];
}

/**
 * Reads a stored document (either shape, written by any node, including nodes from before the
 * current shape existed) back into facts; undefined for anything else.
 */
export function factsOf(doc: unknown): SubscriptionFacts | undefined {
  if (typeof doc !== 'object' || doc === null) return undefined;
  const d = doc as Record<string, unknown>;
  if (typeof d.subscriber !== 'string') return undefined;
  const common = { subscriber: d.subscriber, active: d.active !== false, payload: d.payload };
  if (
    typeof d.match === 'string' &&
    typeof d.match_type === 'string' &&
    isMatchType(d.match_type)
  ) {
    return { ...common, source: d.match, mode: d.match_type };
  }
  if (typeof d.topic === 'string') return { ...common, source: d.topic, mode: 'template' };
  return undefined;
}

// Presence groups (the API's filters). NUL cannot occur in a topic or a matcher (control
// characters are refused), so the two families never share a group, and a draft-07 node's
// `topic` filter never picks up a current-spec entry.

/** The group of a draft-07 subscription: its topic, as nodes before the current shape file it. */
export function draft07Group(topic: string): string {
  return topic;
}

/** The group of a current-spec subscription: `{match_type}\0{match}`. */
export function currentGroup(matchType: MatchType, match: string): string {
  return `${matchType}\0${match}`;
}
