// `ssehub serve --workers 2 --transport redis://…`: each worker is a node of its own on Redis,
// beside a plain node on the same Redis, and the primary only supervises.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { ServeProcess } from '../helpers/cli-process.js';
import { hubOf, startNode } from '../helpers/cluster-node.js';
import { mintTestToken, publishOk } from '../helpers/hub-server.js';
import { type RedisServer, startRedisServer, uniquePrefix } from '../helpers/redis-server.js';
import { openSse, type SseConnection } from '../helpers/sse-client.js';
import { subscribersOnBothWorkers } from '../helpers/workers.js';

const TOPIC = 'https://example.com/redis-workers';

describe('--workers 2 on Redis', () => {
  let redis: RedisServer;
  let workers: ServeProcess;
  let single: ServeProcess;
  const open: SseConnection[] = [];
  before(async () => {
    redis = await startRedisServer();
    const prefix = uniquePrefix('workers');
    workers = await startNode(redis.url, prefix, ['--workers', '2', '--metrics']);
    await workers.waitForLine(/all 2 workers listening/);
    single = await startNode(redis.url, prefix);
  });
  after(async () => {
    for (const conn of open) conn.close();
    await workers?.dispose();
    await single?.dispose();
    await redis?.dispose();
  });

  it('every worker is a node: a publish on another node reaches subscribers on both, in order', async () => {
    const ready = await fetch(`${workers.url}/readyz`);
    assert.equal(ready.status, 200, await ready.text());
    const conns = await subscribersOnBothWorkers(workers.url, TOPIC);
    open.push(...conns);
    const token = await mintTestToken({ publish: ['*'] });
    const ids: string[] = [];
    for (let i = 0; i < 10; i++)
      ids.push(await publishOk(hubOf(single), { topic: TOPIC, data: `w${i}` }, token));
    for (const conn of conns) {
      const events = await conn.waitForEvents(10);
      assert.deepEqual(
        events.map((e) => e.lastEventId),
        ids,
      );
    }
    // Updates published on a worker reach the other node, and history is Redis': a resume on
    // the plain node from an id gets what followed it, wherever it was published.
    const published = await publishOk(
      hubOf(workers),
      { topic: TOPIC, data: 'from a worker' },
      token,
    );
    for (const conn of conns) {
      const events = await conn.waitForEvents(11);
      assert.equal(events[10]!.lastEventId, published);
    }
    const resumed = await openSse(`${hubOf(single)}?topic=${encodeURIComponent(TOPIC)}`, {
      headers: { 'last-event-id': ids[4]! },
    });
    open.push(resumed);
    const replayed = await resumed.waitForEvents(6);
    assert.deepEqual(
      replayed.map((e) => e.lastEventId),
      [...ids.slice(5), published],
    );
  });
});
