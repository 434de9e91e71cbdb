import type { Presence, PresenceEntry, Update } from '../../transport/types.js';
import { payloadFor } from '../auth/index.js';
import type { Subscriber } from './subscriber.js';

/** The JSON-LD context of every subscription document. */
export const MERCURE_CONTEXT = 'https://mercure.rocks/';
/** Topics of subscription events, and the path of the subscriptions API, start with this. */
export const SUBSCRIPTIONS_TOPIC_PREFIX = '/.well-known/mercure/subscriptions';

/** One subscription, as published in subscription events and served by the API (draft 07). */
export interface SubscriptionDocument {
  '@context'?: string;
  /** The subscription's topic URL: `/.well-known/mercure/subscriptions/{topic}/{subscriber}`. */
  id: string;
  type: 'Subscription';
  /** The topic selector the subscriber gave. */
  topic: string;
  /** The subscriber's id, `urn:uuid:…`. */
  subscriber: string;
  active: boolean;
  /** The payload the subscriber's token gives this subscription (auth `payloadFor`), if any. */
  payload?: unknown;
}

/**
 * The topic of a subscription (and its URL in the API): `topic` and `subscriber` are each
 * percent-encoded exactly once, as a whole. Without a topic, the collection of all subscriptions;
 * without a subscriber, the collection for that topic.
 */
export function subscriptionTopic(topic?: string, subscriber?: string): string {
  if (topic === undefined) return SUBSCRIPTIONS_TOPIC_PREFIX;
  const base = `${SUBSCRIPTIONS_TOPIC_PREFIX}/${encodeSegment(topic)}`;
  return subscriber === undefined ? base : `${base}/${encodeSegment(subscriber)}`;
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

function documentFor(topic: string, subscriber: Subscriber, active: boolean): SubscriptionDocument {
  const doc: SubscriptionDocument = {
    id: subscriptionTopic(topic, subscriber.id),
    type: 'Subscription',
    topic,
    subscriber: subscriber.id,
    active,
  };
  // Per subscription: the first subscribe detail matching its own matcher string (current tokens).
  const payload = payloadFor(subscriber.claims, topic);
  if (payload !== undefined) doc.payload = payload;
  return doc;
}

/**
 * The active subscriptions, one per (selector, subscriber), and the private updates announcing
 * each one's start and end. `emit` stores and fans out an update (ids are assigned by the
 * caller's `emit`). With a transport's `Presence` the listing covers every node on the store;
 * without, this node's subscriptions are all there are.
 */
export class SubscriptionRegistry {
  // Insertion order is subscription order, which keeps API listings stable.
  readonly #active = new Map<string, SubscriptionDocument>();
  readonly #emit: (update: Omit<Update, 'id'>) => void;
  readonly #presence: Presence | undefined;
  readonly #onPresenceError: (err: unknown) => void;

  constructor(
    emit: (update: Omit<Update, 'id'>) => void,
    presence?: Presence,
    onPresenceError: (err: unknown) => void = () => {},
  ) {
    this.#emit = emit;
    this.#presence = presence;
    this.#onPresenceError = onPresenceError;
  }

  /** Records the subscriber's subscriptions and publishes one `active: true` event for each. */
  activate(subscriber: Subscriber): void {
    const entries: PresenceEntry[] = [];
    for (const selector of subscriber.selectors) {
      const doc = documentFor(selector.source, subscriber, true);
      this.#active.set(doc.id, doc);
      entries.push({ key: doc.id, group: doc.topic, value: JSON.stringify(doc) });
      this.#announce(doc);
    }
    this.#presence?.addPresence(entries).catch(this.#onPresenceError);
  }

  /** Forgets the subscriber's subscriptions and publishes one `active: false` event for each. */
  deactivate(subscriber: Subscriber): void {
    const keys: string[] = [];
    for (const selector of subscriber.selectors) {
      const doc = documentFor(selector.source, subscriber, false);
      if (!this.#active.delete(doc.id)) continue;
      keys.push(doc.id);
      this.#announce(doc);
    }
    if (keys.length > 0) this.#presence?.removePresence(keys).catch(this.#onPresenceError);
  }

  /** Active subscriptions, all or only those of one topic selector. */
  async list(topic?: string): Promise<SubscriptionDocument[]> {
    if (this.#presence !== undefined) {
      const entries = await this.#presence.listPresence(topic);
      // Stable listings across calls and nodes: the store promises no order.
      return entries.map(toDocument).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    }
    const out: SubscriptionDocument[] = [];
    for (const doc of this.#active.values()) {
      if (topic === undefined || doc.topic === topic) out.push(doc);
    }
    return out;
  }

  /** One active subscription, or undefined. */
  async get(topic: string, subscriber: string): Promise<SubscriptionDocument | undefined> {
    const key = subscriptionTopic(topic, subscriber);
    if (this.#presence !== undefined) {
      const entry = await this.#presence.getPresence(key);
      return entry === undefined ? undefined : toDocument(entry);
    }
    return this.#active.get(key);
  }

  #announce(doc: SubscriptionDocument): void {
    this.#emit({
      topics: [doc.id],
      data: JSON.stringify({ '@context': MERCURE_CONTEXT, ...doc }),
      private: true,
    });
  }
}

function toDocument(entry: PresenceEntry): SubscriptionDocument {
  return JSON.parse(entry.value) as SubscriptionDocument;
}
