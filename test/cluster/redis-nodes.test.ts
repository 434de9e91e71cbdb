// Three hub processes (`ssehub serve`) on one real redis-server: cross-node delivery in order,
// cross-node resume, and a stalled node that catches up. Failure cases live in
// redis-failures.test.ts.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { ServeProcess } from '../helpers/cli-process.js';
import { hubOf, startNode } from '../helpers/cluster-node.js';
import { mintTestToken, publishOk, subscribeUrl } from '../helpers/hub-server.js';
import { type RedisServer, startRedisServer, uniquePrefix } from '../helpers/redis-server.js';
import { openSse, type SseConnection } from '../helpers/sse-client.js';

const TOPIC = 'https://example.com/cluster';

describe('three hub nodes on one Redis', () => {
  let redis: RedisServer;
  const nodes: ServeProcess[] = [];
  const open: SseConnection[] = [];
  let token: string;
  before(async () => {
    redis = await startRedisServer();
    token = await mintTestToken({ publish: ['*'] });
    const prefix = uniquePrefix('nodes');
    nodes.push(...(await Promise.all([0, 1, 2].map(() => startNode(redis.url, prefix)))));
  });
  after(async () => {
    for (const conn of open) conn.close();
    await Promise.all(nodes.map((n) => n.dispose()));
    await redis.dispose();
  });

  async function subscribe(node: ServeProcess, headers: Record<string, string> = {}) {
    const conn = await openSse(subscribeUrl(hubOf(node), [TOPIC]), { headers });
    open.push(conn);
    return conn;
  }

  it('delivers every publish on A to subscribers on B and C, once each, in order', async () => {
    const [a, b, c] = nodes as [ServeProcess, ServeProcess, ServeProcess];
    const onB = await subscribe(b);
    const onC = await subscribe(c);
    const sent: string[] = [];
    for (let i = 0; i < 50; i++) {
      sent.push(await publishOk(hubOf(a), { topic: TOPIC, data: `n${i}` }, token));
    }
    for (const conn of [onB, onC]) {
      const events = await conn.waitForEvents(50);
      assert.deepEqual(
        events.map((e) => e.lastEventId),
        sent,
      );
      assert.deepEqual(
        events.map((e) => e.data),
        sent.map((_, i) => `n${i}`),
      );
    }
  });

  it('resumes on another node with exactly what was missed', async () => {
    const [a, b, c] = nodes as [ServeProcess, ServeProcess, ServeProcess];
    const first = await subscribe(b);
    const before = [];
    for (let i = 0; i < 5; i++)
      before.push(await publishOk(hubOf(a), { topic: TOPIC, data: `r${i}` }, token));
    await first.waitForEvents(5);
    first.close();
    const missed = [];
    for (let i = 5; i < 12; i++)
      missed.push(await publishOk(hubOf(c), { topic: TOPIC, data: `r${i}` }, token));
    const resumed = await subscribe(c, { 'last-event-id': before.at(-1)! });
    const events = await resumed.waitForEvents(missed.length);
    assert.deepEqual(
      events.map((e) => e.lastEventId),
      missed,
    );
    // And live updates follow on the same stream, once.
    const next = await publishOk(hubOf(b), { topic: TOPIC, data: 'live' }, token);
    await resumed.waitForEvents(missed.length + 1);
    assert.deepEqual(
      resumed.events.map((e) => e.lastEventId),
      [...missed, next],
    );
  });

  it('a node stopped with SIGSTOP catches up after SIGCONT: nothing lost, nothing twice', async () => {
    const [a, b] = nodes as [ServeProcess, ServeProcess];
    const onB = await subscribe(b);
    const sent: string[] = [];
    sent.push(await publishOk(hubOf(a), { topic: TOPIC, data: 'before' }, token));
    await onB.waitForEvents(1);
    b.child.kill('SIGSTOP');
    try {
      // A pause of a few seconds, as a long GC pause or a starved CPU would make: A publishes all
      // along (a duration of load, not a wait), and B reads none of it until it runs again.
      const pausedAt = Date.now();
      for (let i = 0; Date.now() - pausedAt < 3_000; i++) {
        sent.push(await publishOk(hubOf(a), { topic: TOPIC, data: `s${i}` }, token));
      }
    } finally {
      b.child.kill('SIGCONT');
    }
    sent.push(await publishOk(hubOf(a), { topic: TOPIC, data: 'after' }, token));
    const events = await onB.waitForEvents(sent.length);
    assert.deepEqual(
      events.map((e) => e.lastEventId),
      sent,
    );
  });
});
