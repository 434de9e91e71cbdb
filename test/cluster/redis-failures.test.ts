// Failure behaviour of hub nodes on Redis, each with real processes: Redis goes away and comes
// back, a node is killed mid-stream behind nginx, Redis restarts without its data. The client is
// ours (reconnect with back-off and Last-Event-ID), so what is asserted is what an application
// sees: every acknowledged update exactly once, in order, or the loss signal.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { HistoryLostInfo } from '../../src/client/index.js';
import { subscribeTopics } from '../../src/client/index.js';
import type { ServeProcess } from '../helpers/cli-process.js';
import { hubOf, startNode } from '../helpers/cluster-node.js';
import { mintTestToken, postForm } from '../helpers/hub-server.js';
import { nginxMissing, startNginx } from '../helpers/nginx.js';
import { startRedisServer, uniquePrefix } from '../helpers/redis-server.js';
import { eventually } from '../helpers/sse-client.js';
import { DEFAULT_WAIT_MS } from '../helpers/waiters.js';

const TOPIC = 'https://example.com/failures';
const WAIT = DEFAULT_WAIT_MS * 3;

type TestContext = { after(fn: () => unknown): void };

/** Collects what our client receives on `hubUrl`, resuming across reconnects. */
function collect(hubUrl: string, token: string) {
  const ids: string[] = [];
  const lost: HistoryLostInfo[] = [];
  const opened: Headers[] = [];
  const controller = new AbortController();
  const sub = subscribeTopics(hubUrl, {
    topics: [TOPIC],
    token,
    signal: controller.signal,
    initialDelayMs: 200,
    maxDelayMs: 500,
    onOpen: (info) => opened.push(info.headers),
    onHistoryLost: (info) => lost.push(info),
  });
  const done = (async () => {
    for await (const event of sub) ids.push(event.lastEventId);
  })();
  return {
    ids,
    lost,
    opened,
    async stop() {
      controller.abort();
      await done.catch(() => {});
    },
  };
}

async function publish(hubUrl: string, token: string, data: string) {
  return postForm(hubUrl, { topic: TOPIC, data }, { authorization: `Bearer ${token}` });
}

describe('hub nodes on Redis, when things fail', () => {
  it('Redis goes away: publishes get 503, /readyz says so; when it is back nothing acknowledged is lost', async (t: TestContext) => {
    // appendfsync always: an acknowledged publish is on Redis' disk before the hub answers 200,
    // so a crash of Redis (SIGKILL) loses none of them.
    const redis = await startRedisServer({
      own: true,
      extraArgs: ['--appendonly', 'yes', '--appendfsync', 'always'],
    });
    t.after(() => redis.dispose());
    const prefix = uniquePrefix('away');
    const a = await startNode(redis.url, prefix);
    t.after(() => a.dispose());
    const b = await startNode(redis.url, prefix);
    t.after(() => b.dispose());
    const publisher = await mintTestToken({ publish: ['*'] });
    const client = collect(hubOf(b), await mintTestToken({ subscribe: ['*'] }));
    t.after(() => client.stop());
    await eventually(() => client.opened.length === 1, 'the client connected', WAIT);

    const acknowledged: string[] = [];
    for (let i = 0; i < 5; i++) {
      const res = await publish(hubOf(a), publisher, `up${i}`);
      assert.equal(res.status, 200);
      acknowledged.push(res.body);
    }
    await eventually(() => client.ids.length === 5, 'five updates before the outage', WAIT);

    await redis.stop();
    const refused = await publish(hubOf(a), publisher, 'while down');
    assert.equal(refused.status, 503, refused.body);
    const ready = await fetch(`${a.url}/readyz`);
    assert.equal(ready.status, 503);
    assert.match(await ready.text(), /transport unavailable/);

    await redis.start();
    await eventually(
      async () => (await fetch(`${a.url}/readyz`)).status === 200,
      'node A ready again',
      WAIT,
    );
    for (let i = 5; i < 10; i++) {
      const res = await publish(hubOf(a), publisher, `up${i}`);
      assert.equal(res.status, 200, res.body);
      acknowledged.push(res.body);
    }
    await eventually(() => client.ids.length >= 10, 'every acknowledged update', WAIT);
    assert.deepEqual(client.ids, acknowledged);
    assert.deepEqual(client.lost, []);
  });

  it('a node killed with SIGKILL mid-stream: its subscribers resume on the other node behind nginx, exactly once, in order', async (t: TestContext) => {
    const missing = nginxMissing();
    if (missing !== undefined) {
      assert.ok(!process.env.CI, missing);
      return;
    }
    const redis = await startRedisServer();
    t.after(() => redis.dispose());
    const prefix = uniquePrefix('kill');
    const nodes: ServeProcess[] = [
      await startNode(redis.url, prefix),
      await startNode(redis.url, prefix),
    ];
    for (const node of nodes) t.after(() => node.dispose());
    const lb = await startNginx(nodes.map((n) => n.port));
    t.after(() => lb.stop());
    const publisher = await mintTestToken({ publish: ['*'] });
    const client = collect(
      `http://127.0.0.1:${lb.port}/.well-known/mercure`,
      await mintTestToken({ subscribe: ['*'] }),
    );
    t.after(() => client.stop());
    await eventually(() => client.opened.length === 1, 'the client connected', WAIT);
    const upstream = client.opened[0]!.get('x-upstream');
    const victim = nodes.find((n) => upstream === `127.0.0.1:${n.port}`);
    assert.ok(victim, `the stream runs through a known node (${upstream})`);
    const survivor = nodes.find((n) => n !== victim)!;

    const acknowledged: string[] = [];
    const publishOn = async (node: ServeProcess, data: string) => {
      const res = await publish(hubOf(node), publisher, data);
      assert.equal(res.status, 200, res.body);
      acknowledged.push(res.body);
    };
    for (let i = 0; i < 10; i++) await publishOn(i % 2 === 0 ? victim : survivor, `k${i}`);
    await eventually(() => client.ids.length === 10, 'ten updates before the kill', WAIT);

    victim.child.kill('SIGKILL');
    // Published while the client is between nodes: only its resume can bring these.
    for (let i = 10; i < 20; i++) await publishOn(survivor, `k${i}`);
    await eventually(
      () => client.ids.length >= 20,
      'every acknowledged update after the kill',
      WAIT,
    );
    for (let i = 20; i < 25; i++) await publishOn(survivor, `k${i}`);
    await eventually(() => client.ids.length >= 25, 'live updates on the survivor', WAIT);
    assert.deepEqual(client.ids, acknowledged);
    assert.deepEqual(client.lost, []);
    assert.ok(client.opened.length >= 2, 'the client reconnected');
    assert.equal(client.opened.at(-1)!.get('x-upstream'), `127.0.0.1:${survivor.port}`);
  });

  it('Redis restarted without its data: a resume across it gets the loss signal, never a silent skip', async (t: TestContext) => {
    const redis = await startRedisServer({ own: true });
    t.after(() => redis.dispose());
    const node = await startNode(redis.url, uniquePrefix('lost'));
    t.after(() => node.dispose());
    const publisher = await mintTestToken({ publish: ['*'] });
    const client = collect(hubOf(node), await mintTestToken({ subscribe: ['*'] }));
    t.after(() => client.stop());
    await eventually(() => client.opened.length === 1, 'the client connected', WAIT);
    const before: string[] = [];
    for (let i = 0; i < 3; i++) before.push((await publish(hubOf(node), publisher, `b${i}`)).body);
    await eventually(() => client.ids.length === 3, 'three updates before the loss', WAIT);

    await redis.stop(); // a crash without persistence: everything Redis held is gone
    await redis.start();
    await eventually(
      async () => (await fetch(`${node.url}/readyz`)).status === 200,
      'the node ready on the new Redis',
      WAIT,
    );
    await eventually(() => client.lost.length > 0, 'the client told of lost history', WAIT);
    assert.equal(client.lost[0]!.requested, before.at(-1));
    assert.equal(client.lost[0]!.returned, 'earliest');
    // After the loss, the stream goes on with what the new store holds.
    const after = (await publish(hubOf(node), publisher, 'after')).body;
    await eventually(() => client.ids.includes(after), 'an update after the loss', WAIT);
    assert.deepEqual(client.ids.slice(0, 3), before);
  });
});
