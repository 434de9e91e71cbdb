import type { Presence, PresenceEntry, Update } from '../../transport/types.js';
import { payloadFor } from '../auth/index.js';
import type { Selector } from '../selectors/index.js';
import type { Subscriber } from './subscriber.js';
import {
  type AnySubscriptionDocument,
  currentGroup,
  type Draft07SubscriptionDocument,
  documentIn,
  draft07Group,
  factsOf,
  isPlainTemplate,
  type MatchType,
  MERCURE_CONTEXT,
  matcherSubscriptionTopic,
  ownShape,
  type ShapedDocument,
  SUBSCRIPTION_EVENT_TYPE,
  SUBSCRIPTIONS_TOPIC_PREFIX,
  type SubscriptionDocument,
  type SubscriptionFacts,
  type SubscriptionShape,
  subscriptionTopic,
} from './subscription-documents.js';

/**
 * The `payload` shown with one subscription of `subscriber`: for a current-spec token, that of
 * the first `subscribe` detail whose topics match the subscription's own matcher; for a draft-07
 * token, the token's.
 */
export function subscriptionPayload(subscriber: Subscriber, selector: Selector): unknown {
  return payloadFor(subscriber.claims, selector.source);
}

/** A filter of the current-spec listing: one matcher type, and optionally one matcher. */
export interface MatcherFilter {
  matchType: MatchType;
  match?: string;
}

const OTHER: Record<SubscriptionShape, SubscriptionShape> = {
  current: 'draft07',
  draft07: 'current',
};

/**
 * The active subscriptions, one per (selector, subscriber), and the private updates announcing
 * each one's start and end. Each subscription is stored once, in the shape of the selector it was
 * made with (`topic=`: draft 07; `match*`: current), and shown in the other shape too whenever
 * that shape can say the same thing (a plain string is an `exact` matcher and a draft-07 topic
 * alike; URL patterns exist only in the current shape, templates only in draft 07): events are
 * published in both, and each API shape lists them. `emit` stores and fans out an update (ids
 * are assigned by the caller's `emit`). With a transport's `Presence` the listing covers every
 * node on the store; without, this node's subscriptions are all there are.
 */
export class SubscriptionRegistry {
  // This node's entries by key. Insertion order is subscription order, which keeps listings
  // without a shared presence stable.
  readonly #local = new Map<string, PresenceEntry>();
  readonly #emit: (update: Omit<Update, 'id'>) => void;
  readonly #presence: Presence | undefined;
  readonly #onPresenceError: (err: unknown) => void;
  readonly #prefix: string;

  constructor(
    emit: (update: Omit<Update, 'id'>) => void,
    presence?: Presence,
    onPresenceError: (err: unknown) => void = () => {},
    prefix = SUBSCRIPTIONS_TOPIC_PREFIX,
  ) {
    this.#emit = emit;
    this.#presence = presence;
    this.#onPresenceError = onPresenceError;
    this.#prefix = prefix;
  }

  /** `{hub path}/subscriptions`: the start of every subscription topic and API path. */
  get prefix(): string {
    return this.#prefix;
  }

  /** Records the subscriber's subscriptions and publishes the `active: true` events of each. */
  activate(subscriber: Subscriber): void {
    const entries: PresenceEntry[] = [];
    const announced = new Set<string>();
    for (const selector of subscriber.selectors) {
      const facts = this.#facts(subscriber, selector, true);
      const own = documentIn(ownShape(selector.mode), facts, this.#prefix)!;
      const entry = entryFor(own);
      this.#local.set(entry.key, entry);
      entries.push(entry);
      this.#announceAll(own, facts, announced);
    }
    this.#presence?.addPresence(entries).catch(this.#onPresenceError);
  }

  /** Forgets the subscriber's subscriptions and publishes the `active: false` events of each. */
  deactivate(subscriber: Subscriber): void {
    const keys: string[] = [];
    const announced = new Set<string>();
    for (const selector of subscriber.selectors) {
      const facts = this.#facts(subscriber, selector, false);
      const own = documentIn(ownShape(selector.mode), facts, this.#prefix)!;
      if (!this.#local.delete(own.id)) continue;
      keys.push(own.id);
      this.#announceAll(own, facts, announced);
    }
    if (keys.length > 0) this.#presence?.removePresence(keys).catch(this.#onPresenceError);
  }

  /** Active subscriptions in the current shape: all, one matcher type's, or one matcher's. */
  async list(filter?: MatcherFilter): Promise<SubscriptionDocument[]> {
    let groups: string[] | undefined;
    if (filter?.match !== undefined) {
      groups = [currentGroup(filter.matchType, filter.match)];
      // Draft-07 subscriptions to the same plain string are the same exact matcher.
      if (filter.matchType === 'exact' && isPlainTemplate(filter.match)) {
        groups.push(draft07Group(filter.match));
      }
    }
    const docs = await this.#collect('current', groups);
    if (filter === undefined) return docs;
    return docs.filter(
      (d) => d.match_type === filter.matchType && (filter.match ?? d.match) === d.match,
    );
  }

  /** Active subscriptions in the draft-07 shape, all or only those of one topic selector. */
  async listDraft07(topic?: string): Promise<Draft07SubscriptionDocument[]> {
    const groups =
      topic === undefined ? undefined : [draft07Group(topic), currentGroup('exact', topic)];
    const docs = await this.#collect('draft07', groups);
    return topic === undefined ? docs : docs.filter((d) => d.topic === topic);
  }

  /** One active subscription in the current shape, or undefined. */
  async get(
    matchType: MatchType,
    match: string,
    subscriber: string,
  ): Promise<SubscriptionDocument | undefined> {
    const keys = [matcherSubscriptionTopic(matchType, match, subscriber, this.#prefix)];
    if (matchType === 'exact' && isPlainTemplate(match)) {
      keys.push(subscriptionTopic(match, subscriber, this.#prefix));
    }
    for (const key of keys) {
      const doc = shaped('current', await this.#entry(key), this.#prefix);
      if (doc?.match_type === matchType && doc.match === match && doc.subscriber === subscriber) {
        return doc;
      }
    }
    return undefined;
  }

  /** One active subscription in the draft-07 shape, or undefined. */
  async getDraft07(
    topic: string,
    subscriber: string,
  ): Promise<Draft07SubscriptionDocument | undefined> {
    const keys = [
      subscriptionTopic(topic, subscriber, this.#prefix),
      matcherSubscriptionTopic('exact', topic, subscriber, this.#prefix),
    ];
    for (const key of keys) {
      const doc = shaped('draft07', await this.#entry(key), this.#prefix);
      if (doc?.topic === topic && doc.subscriber === subscriber) return doc;
    }
    return undefined;
  }

  #facts(subscriber: Subscriber, selector: Selector, active: boolean): SubscriptionFacts {
    return {
      source: selector.source,
      mode: selector.mode,
      subscriber: subscriber.id,
      active,
      payload: subscriptionPayload(subscriber, selector),
    };
  }

  async #entry(key: string): Promise<PresenceEntry | undefined> {
    return this.#presence === undefined ? this.#local.get(key) : this.#presence.getPresence(key);
  }

  async #collect<S extends SubscriptionShape>(
    shape: S,
    groups: readonly string[] | undefined,
  ): Promise<ShapedDocument[S][]> {
    let entries: PresenceEntry[];
    if (this.#presence !== undefined) {
      const presence = this.#presence;
      entries =
        groups === undefined
          ? await presence.listPresence()
          : (await Promise.all(groups.map((g) => presence.listPresence(g)))).flat();
    } else {
      entries = [...this.#local.values()];
      if (groups !== undefined) entries = entries.filter((e) => groups.includes(e.group));
    }
    // One subscriber's `topic=X` and `match=X` are one subscription in each shape: shown once.
    const byId = new Map<string, ShapedDocument[S]>();
    for (const entry of entries) {
      const doc = shaped(shape, entry, this.#prefix);
      if (doc !== undefined && !byId.has(doc.id)) byId.set(doc.id, doc);
    }
    const docs = [...byId.values()];
    // Stable listings across calls and nodes: the store promises no order.
    if (this.#presence !== undefined) docs.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    return docs;
  }

  #announceAll(own: AnySubscriptionDocument, facts: SubscriptionFacts, done: Set<string>): void {
    const shape = shapeOf(own);
    for (const doc of [own, documentIn(OTHER[shape], facts, this.#prefix)]) {
      if (doc === undefined || done.has(doc.id)) continue;
      done.add(doc.id);
      this.#announce(doc);
    }
  }

  #announce(doc: AnySubscriptionDocument): void {
    if (doc.type === 'subscription') {
      this.#emit({
        topics: [doc.id],
        data: JSON.stringify(doc),
        type: SUBSCRIPTION_EVENT_TYPE,
        private: true,
      });
      return;
    }
    // Draft 07 as hub 0.x sent it: JSON-LD, no `event:` (its clients listen with `onmessage`).
    this.#emit({
      topics: [doc.id],
      data: JSON.stringify({ '@context': MERCURE_CONTEXT, ...doc }),
      private: true,
    });
  }
}

function shapeOf(doc: AnySubscriptionDocument): SubscriptionShape {
  return doc.type === 'subscription' ? 'current' : 'draft07';
}

/**
 * A presence entry: keyed by the document's id, in the group its shape filters on, holding the
 * document. Draft-07 entries are exactly what nodes from before the current shape write and read.
 */
function entryFor(doc: AnySubscriptionDocument): PresenceEntry {
  const group =
    doc.type === 'subscription' ? currentGroup(doc.match_type, doc.match) : draft07Group(doc.topic);
  return { key: doc.id, group, value: JSON.stringify(doc) };
}

/**
 * A stored entry in `shape`: as stored when it is in that shape already (a document another node
 * wrote stays byte for byte), else converted; undefined when it is not a subscription document
 * or that shape cannot show it.
 */
function shaped<S extends SubscriptionShape>(
  shape: S,
  entry: PresenceEntry | undefined,
  prefix: string,
): ShapedDocument[S] | undefined {
  if (entry === undefined) return undefined;
  let stored: unknown;
  try {
    stored = JSON.parse(entry.value);
  } catch {
    return undefined; // not written by a hub: skip it rather than fail a listing
  }
  const facts = factsOf(stored);
  if (facts === undefined) return undefined;
  if (ownShape(facts.mode) === shape) return stored as ShapedDocument[S];
  return documentIn(shape, facts, prefix);
}
