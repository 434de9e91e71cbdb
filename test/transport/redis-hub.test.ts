import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { createRedisTransport, type RedisTransport } from '../../src/transport/redis/index.js';
import { cliEnv, startServe } from '../helpers/cli-process.js';
import {
  getText,
  mintTestToken,
  publishOk,
  startHub,
  subscribeUrl,
  TEST_SECRET,
} from '../helpers/hub-server.js';
import { type RedisServer, startRedisServer, uniquePrefix } from '../helpers/redis-server.js';
import { openSse } from '../helpers/sse-client.js';

// The Redis transport under the hub: two hubs on one store behave as one, and the CLI builds
// the transport from a redis:// URL.

let shared: Promise<RedisServer> | undefined;
function server(): Promise<RedisServer> {
  shared ??= startRedisServer();
  return shared;
}
after(async () => {
  if (shared) await (await shared).dispose();
});

type TestContext = { after(fn: () => unknown): void };

async function transport(t: TestContext, keyPrefix: string): Promise<RedisTransport> {
  const target = await server();
  const created = await createRedisTransport({
    host: target.host,
    port: target.port,
    keyPrefix,
    blockMs: 100,
  });
  t.after(() => created.close());
  return created;
}

describe('Redis transport under the hub', () => {
  it('two hubs on one Redis: a publish on one reaches subscribers of the other, and history is shared', async (t) => {
    const keyPrefix = uniquePrefix('hub');
    const hubA = await startHub({
      anonymous: true,
      subscriptions: true,
      transport: await transport(t, keyPrefix),
    });
    t.after(() => hubA.close());
    const hubB = await startHub({
      anonymous: true,
      subscriptions: true,
      transport: await transport(t, keyPrefix),
    });
    t.after(() => hubB.close());
    const topic = 'https://example.com/books/1';

    const live = await openSse(subscribeUrl(hubB.url, [topic]));
    t.after(() => live.close());
    assert.equal(live.status, 200);
    // The subscription is visible through the other hub's subscriptions API (shared presence).
    await waitForSubscription(hubA.url, topic);

    const first = await publishOk(hubA.url, { topic, data: 'first' });
    const [event] = await live.waitForEvents(1);
    assert.equal(event!.lastEventId, first);
    assert.equal(event!.data, 'first');

    const second = await publishOk(hubA.url, { topic, data: 'second' });
    await live.waitForEvents(2);
    // A client resuming on hub B after `first` gets `second` from the shared history.
    const resumed = await openSse(subscribeUrl(hubB.url, [topic]), {
      headers: { 'last-event-id': first },
    });
    t.after(() => resumed.close());
    const [replayed] = await resumed.waitForEvents(1);
    assert.equal(replayed!.lastEventId, second);
    assert.equal(replayed!.data, 'second');
  });

  it("two hubs on one Redis list each other's subscriptions in the current shape, and entries of draft-07-only nodes in both", async (t) => {
    const keyPrefix = uniquePrefix('shapes');
    const hubA = await startHub({
      anonymous: true,
      subscriptions: true,
      transport: await transport(t, keyPrefix),
    });
    t.after(() => hubA.close());
    const storeB = await transport(t, keyPrefix);
    const hubB = await startHub({ anonymous: true, subscriptions: true, transport: storeB });
    t.after(() => hubB.close());
    const token = await mintTestToken({ subscribe: ['*'] });
    const auth = { authorization: `Bearer ${token}` };
    const exact = 'https://example.com/shared';
    const pattern = 'https://example.com/shared/:id';

    const subs = [
      await openSse(`${hubB.url}?match=${encodeURIComponent(exact)}`),
      await openSse(`${hubB.url}?match_urlpattern=${encodeURIComponent(pattern)}`),
    ];
    for (const s of subs) t.after(() => s.close());
    // A node from before the current shape files a draft-07 document under its topic.
    const old = 'urn:uuid:00000000-0000-4000-8000-0000000000aa';
    const oldId = `/.well-known/mercure/subscriptions/${encodeURIComponent(exact)}/${encodeURIComponent(old)}`;
    await storeB.addPresence([
      {
        key: oldId,
        group: exact,
        value: JSON.stringify({
          id: oldId,
          type: 'Subscription',
          topic: exact,
          subscriber: old,
          active: true,
        }),
      },
    ]);

    const byMatcher = `${hubA.url}/subscriptions/exact/${encodeURIComponent(exact)}`;
    const listed = await poll(byMatcher, auth, (body) => body.subscriptions?.length === 2);
    for (const doc of listed.subscriptions) {
      assert.equal(doc.type, 'subscription');
      assert.equal(doc.match_type, 'exact');
      assert.equal(doc.match, exact);
      assert.equal(
        doc.id,
        `/.well-known/mercure/subscriptions/exact/${encodeURIComponent(exact)}/${encodeURIComponent(doc.subscriber)}`,
      );
    }
    assert.ok(listed.subscriptions.some((d: { subscriber: string }) => d.subscriber === old));
    const all = await poll(`${hubA.url}/subscriptions`, auth, (b) => b.subscriptions?.length === 3);
    assert.ok(all.subscriptions.some((d: { match_type: string }) => d.match_type === 'urlpattern'));
    // The old entry in its own shape, and the current `match=` one as its draft-07 equal.
    const ld = await getText(`${hubA.url}/subscriptions/${encodeURIComponent(exact)}`, auth);
    assert.equal(ld.headers.get('content-type'), 'application/ld+json');
    const ldBody = JSON.parse(ld.body);
    assert.equal(ldBody.subscriptions.length, 2);
    assert.deepEqual(
      ldBody.subscriptions.find((d: { subscriber: string }) => d.subscriber === old),
      { id: oldId, type: 'Subscription', topic: exact, subscriber: old, active: true },
    );
    const single = await getText(`${byMatcher}/${encodeURIComponent(old)}`, auth);
    assert.equal(single.status, 200);
    assert.equal(JSON.parse(single.body).match_type, 'exact');
  });

  it('ssehub serve --transport redis://… stores publishes in Redis and is ready', async (t) => {
    const target = await server();
    const keyPrefix = uniquePrefix('cli');
    const url = `${target.url}?prefix=${encodeURIComponent(keyPrefix)}&blockMs=100`;
    const hub = await startServe(
      ['--no-demo', '--transport', url],
      cliEnv({ SSEHUB_JWT_KEY: TEST_SECRET }),
    );
    t.after(() => hub.dispose());
    const ready = await fetch(`${hub.url}/readyz`);
    assert.equal(ready.status, 200);
    const id = await publishOk(`${hub.url}/.well-known/mercure`, {
      topic: 'https://example.com/cli',
      data: 'through the CLI',
    });
    const observer = await transport(t, keyPrefix);
    assert.equal(await observer.lastId(), id);
    const { updates } = await observer.replay('earliest');
    assert.equal(updates[0]!.data, 'through the CLI');
  });
});

/** Polls `url` until its JSON body passes `done` (bounded); returns that body. */
async function poll(
  url: string,
  headers: Record<string, string>,
  done: (body: { subscriptions?: unknown[] }) => boolean,
  // biome-ignore lint/suspicious/noExplicitAny: a JSON body, checked by the caller's asserts
): Promise<any> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const res = await getText(url, headers);
    if (res.status === 200 && done(JSON.parse(res.body))) return JSON.parse(res.body);
    if (Date.now() > deadline) throw new Error(`not listed: ${res.status} ${res.body}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** Polls the subscriptions API until it lists a subscription to `topic` (bounded). */
async function waitForSubscription(hubUrl: string, topic: string): Promise<void> {
  const token = await mintTestToken({
    subscribe: ['/.well-known/mercure/subscriptions{/topic}{/subscriber}'],
  });
  const url = `${hubUrl}/subscriptions/${encodeURIComponent(topic)}`;
  const deadline = Date.now() + 10_000;
  for (;;) {
    const res = await getText(url, { authorization: `Bearer ${token}` });
    if (res.status === 200 && res.body.includes(topic)) return;
    if (Date.now() > deadline) throw new Error(`no subscription listed: ${res.status} ${res.body}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
