import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  getText,
  mintTestToken,
  type RunningHub,
  startHub,
  subscribeUrl,
} from '../helpers/hub-server.js';
import { openSse, type SseConnection } from '../helpers/sse-client.js';

const SUBSCRIPTIONS_SELECTOR = '/.well-known/mercure/subscriptions{/topic}{/subscriber}';
const TOPIC = 'https://example.com/books/{id}';

interface SubscriptionDoc {
  '@context'?: string;
  id: string;
  type: string;
  topic: string;
  subscriber: string;
  active: boolean;
  payload?: unknown;
  lastEventID?: string;
}

describe('active subscriptions', () => {
  let h: RunningHub;
  let watcherToken: string;
  let watcher: SseConnection;
  let watched: SseConnection | undefined;
  before(async () => {
    h = await startHub({ anonymous: true, subscriptions: true });
    watcherToken = await mintTestToken({ subscribe: [SUBSCRIPTIONS_SELECTOR] });
    watcher = await openSse(subscribeUrl(h.url, [SUBSCRIPTIONS_SELECTOR]), {
      headers: { authorization: `Bearer ${watcherToken}` },
    });
  });
  after(async () => {
    watcher.close();
    watched?.close();
    await h.close();
  });

  const docs = (): SubscriptionDoc[] => watcher.events.map((e) => JSON.parse(e.data));

  it('publishes a private Subscription update when a subscription starts', async () => {
    const token = await mintTestToken({ subscribe: [TOPIC], payload: { user: 'u1' } });
    watched = await openSse(subscribeUrl(h.url, [TOPIC]), {
      headers: { authorization: `Bearer ${token}` },
    });
    await watcher.waitFor(() => docs().some((d) => d.topic === TOPIC && d.active), 'active event');
    const doc = docs().find((d) => d.topic === TOPIC)!;
    assert.equal(doc['@context'], 'https://mercure.rocks/');
    assert.equal(doc.type, 'Subscription');
    assert.match(doc.subscriber, /^urn:uuid:/);
    assert.equal(
      doc.id,
      `/.well-known/mercure/subscriptions/${encodeURIComponent(TOPIC)}/${encodeURIComponent(doc.subscriber)}`,
    );
    assert.deepEqual(doc.payload, { user: 'u1' });
  });

  it('keeps subscription events from subscribers without the right selector', async () => {
    const anonymous = await openSse(subscribeUrl(h.url, ['*']));
    const other = await mintTestToken({ subscribe: ['https://example.com/{x}'] });
    const unrelated = await openSse(subscribeUrl(h.url, [SUBSCRIPTIONS_SELECTOR]), {
      headers: { authorization: `Bearer ${other}` },
    });
    try {
      const count = watcher.events.length;
      // This subscription itself triggers an event the watcher sees…
      const probe = await openSse(subscribeUrl(h.url, ['https://example.com/probe']));
      await watcher.waitFor(() => watcher.events.length > count, 'the probe event');
      probe.close();
      await watcher.waitFor(
        () => docs().some((d) => d.topic === 'https://example.com/probe' && !d.active),
        'the probe end event',
      );
      // …but neither an anonymous `*` subscriber nor one with another token gets any: the
      // public marker published after them is the first thing the `*` subscriber sees.
      const marker = await h.hub.publish({ topics: ['https://example.com/marker'], data: 'm' });
      await anonymous.waitForEvents(1);
      assert.deepEqual(
        anonymous.events.map((e) => e.lastEventId),
        [marker],
      );
      assert.equal(unrelated.events.length, 0);
    } finally {
      anonymous.close();
      unrelated.close();
    }
  });

  it('serves the subscriptions API as JSON-LD', async () => {
    const auth = { authorization: `Bearer ${watcherToken}` };
    // The bare collection is shared by both shapes: draft 07 is asked for by Accept.
    const all = await getText(`${h.url}/subscriptions`, { ...auth, accept: 'application/ld+json' });
    assert.equal(all.status, 200);
    assert.equal(all.headers.get('content-type'), 'application/ld+json');
    const body = JSON.parse(all.body);
    assert.equal(body['@context'], 'https://mercure.rocks/');
    assert.equal(body.id, '/.well-known/mercure/subscriptions');
    assert.equal(body.type, 'Subscriptions');
    assert.match(body.lastEventID, /^urn:uuid:/);
    const topics = body.subscriptions.map((s: SubscriptionDoc) => s.topic).sort();
    assert.deepEqual(topics, [SUBSCRIPTIONS_SELECTOR, TOPIC].sort());
    assert.ok(
      body.subscriptions.every((s: SubscriptionDoc) => s.active && s.type === 'Subscription'),
    );

    const byTopic = await getText(`${h.url}/subscriptions/${encodeURIComponent(TOPIC)}`, auth);
    assert.equal(byTopic.status, 200);
    const topicBody = JSON.parse(byTopic.body);
    assert.equal(topicBody.id, `/.well-known/mercure/subscriptions/${encodeURIComponent(TOPIC)}`);
    assert.equal(topicBody.subscriptions.length, 1);
    const one = topicBody.subscriptions[0] as SubscriptionDoc;

    const single = await getText(`${h.url}${one.id.slice('/.well-known/mercure'.length)}`, auth);
    assert.equal(single.status, 200);
    const singleBody = JSON.parse(single.body) as SubscriptionDoc;
    assert.equal(singleBody.id, one.id);
    assert.equal(singleBody.type, 'Subscription');
    assert.equal(singleBody.subscriber, one.subscriber);
    assert.deepEqual(singleBody.payload, { user: 'u1' });
    assert.equal(singleBody.lastEventID, body.lastEventID);
  });

  it('answers 404 for an unknown subscription, 401 without token, 403 outside the selectors', async () => {
    const auth = { authorization: `Bearer ${watcherToken}` };
    const unknown = await getText(
      `${h.url}/subscriptions/${encodeURIComponent(TOPIC)}/${encodeURIComponent('urn:uuid:nope')}`,
      auth,
    );
    assert.equal(unknown.status, 404);
    assert.equal((await getText(`${h.url}/subscriptions`)).status, 401);
    const narrow = await mintTestToken({
      subscribe: [`/.well-known/mercure/subscriptions/${encodeURIComponent(TOPIC)}{/subscriber}`],
    });
    const narrowAuth = { authorization: `Bearer ${narrow}` };
    assert.equal((await getText(`${h.url}/subscriptions`, narrowAuth)).status, 403);
    assert.equal(
      (await getText(`${h.url}/subscriptions/${encodeURIComponent(TOPIC)}`, narrowAuth)).status,
      200,
    );
  });

  it('publishes active: false when the subscription ends, and the API forgets it', async () => {
    watched!.close();
    await watcher.waitFor(
      () => docs().some((d) => d.topic === TOPIC && d.active === false),
      'the inactive event',
    );
    const auth = { authorization: `Bearer ${watcherToken}` };
    const byTopic = JSON.parse(
      (await getText(`${h.url}/subscriptions/${encodeURIComponent(TOPIC)}`, auth)).body,
    );
    assert.deepEqual(byTopic.subscriptions, []);
  });

  it('announces and serves a subscription to * under the documented selector', async () => {
    const starEvents = (): SubscriptionDoc[] => docs().filter((d) => d.topic === '*' && d.active);
    const before = starEvents().length;
    const all = await openSse(subscribeUrl(h.url, ['*']));
    try {
      // Strict RFC 3986: `*` is encoded, or the `{/topic}` template could not match it.
      await watcher.waitFor(
        () => starEvents().length > before,
        'the active event of the * subscription',
      );
      const doc = starEvents().at(-1)!;
      assert.equal(
        doc.id,
        `/.well-known/mercure/subscriptions/%2A/${encodeURIComponent(doc.subscriber)}`,
      );
      const auth = { authorization: `Bearer ${watcherToken}` };
      for (const segment of ['%2A', '*']) {
        const res = await getText(`${h.url}/subscriptions/${segment}`, auth);
        assert.equal(res.status, 200, segment);
        const body = JSON.parse(res.body);
        assert.equal(body.id, '/.well-known/mercure/subscriptions/%2A');
        assert.ok(body.subscriptions.some((s: SubscriptionDoc) => s.subscriber === doc.subscriber));
      }
      const single = await getText(`${h.url}${doc.id.slice('/.well-known/mercure'.length)}`, auth);
      assert.equal(single.status, 200);
    } finally {
      all.close();
    }
  });

  it('is off by default: no events, and the API answers 404', async () => {
    const plain = await startHub({ anonymous: true });
    try {
      const token = await mintTestToken({ subscribe: ['*'] });
      const res = await getText(`${plain.url}/subscriptions`, { authorization: `Bearer ${token}` });
      assert.equal(res.status, 404);
    } finally {
      await plain.close();
    }
  });
});
