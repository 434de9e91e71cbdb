import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { describe, it } from 'node:test';
import { isSseHubError } from '../../src/errors.js';
import { createMemoryTransport } from '../../src/transport/memory.js';
import {
  capturingLogger,
  getText,
  mintTestToken,
  startHub,
  subscribeUrl,
} from '../helpers/hub-server.js';
import { eventually, openSse, type SseConnection } from '../helpers/sse-client.js';

describe('stream lifetime', () => {
  it("closes a subscriber's stream at its token's exp, and only that one", async () => {
    const h = await startHub();
    const open: SseConnection[] = [];
    try {
      const short = await mintTestToken({ subscribe: ['*'], expiresIn: 2 });
      const long = await mintTestToken({ subscribe: ['*'], expiresIn: 3600 });
      const expiring = await openSse(subscribeUrl(h.url, ['t']), {
        headers: { authorization: `Bearer ${short}` },
      });
      const staying = await openSse(subscribeUrl(h.url, ['t']), {
        headers: { authorization: `Bearer ${long}` },
      });
      open.push(expiring, staying);
      await expiring.waitForEnd();
      await eventually(() => h.hub.subscriberCount === 1, 'one subscriber left');
      const id = await h.hub.publish({ topics: ['t'], data: 'still here' });
      await staying.waitFor(() => staying.events.some((e) => e.lastEventId === id), 'the update');
      assert.equal(staying.ended, false);
    } finally {
      for (const conn of open) conn.close();
      await h.close();
    }
  });

  it('cuts streams at the maximum lifetime (with jitter)', async () => {
    const h = await startHub({ anonymous: true, maxStreamLifetimeMs: 200, lifetimeJitter: 0.5 });
    const conns = await Promise.all([1, 2, 3].map(() => openSse(subscribeUrl(h.url, ['t']))));
    try {
      for (const conn of conns) await conn.waitForEnd();
      await eventually(() => h.hub.subscriberCount === 0, 'no subscriber left');
    } finally {
      for (const conn of conns) conn.close();
      await h.close();
    }
  });

  it('sends heartbeat comments on idle streams', async () => {
    const h = await startHub({ anonymous: true, heartbeatMs: 20 });
    const conn = await openSse(subscribeUrl(h.url, ['t']));
    try {
      // The opening comment, then at least two heartbeats.
      await conn.waitFor(() => conn.comments.length >= 3, 'heartbeats');
    } finally {
      conn.close();
      await h.close();
    }
  });
});

describe('slow subscribers', () => {
  it('cuts off a subscriber that stops reading while the others keep receiving', async () => {
    const { logger, lines } = capturingLogger();
    const h = await startHub({
      anonymous: true,
      logger,
      maxQueueBytes: 64 * 1024,
      transport: createMemoryTransport({ maxHistory: 10 }),
    });
    const topic = 'https://example.com/firehose';
    const fast = [
      await openSse(subscribeUrl(h.url, [topic])),
      await openSse(subscribeUrl(h.url, [topic])),
    ];
    // A raw client that sends its request and then never reads a byte.
    const slow = connect(Number(new URL(h.url).port), '127.0.0.1');
    let slowClosed = false;
    slow.on('close', () => {
      slowClosed = true;
    });
    slow.on('error', () => {});
    try {
      await new Promise<void>((resolve) => slow.once('connect', () => resolve()));
      slow.write(
        `GET ${new URL(subscribeUrl(h.url, [topic])).pathname}?topic=${encodeURIComponent(topic)} HTTP/1.1\r\nHost: x\r\n\r\n`,
      );
      slow.pause();
      await eventually(() => h.hub.subscriberCount === 3, 'three subscribers');

      const data = 'x'.repeat(32 * 1024);
      const published: string[] = [];
      // Lock-step with the fast readers, so only the one that stopped reading can fall behind.
      while (h.hub.subscriberCount === 3) {
        assert.ok(published.length < 5000, 'the slow subscriber is never cut off');
        const id = await h.hub.publish({ topics: [topic], data });
        published.push(id);
        for (const conn of fast) {
          await conn.waitFor(
            () => conn.events.at(-1)?.lastEventId === id,
            `update ${published.length}`,
          );
        }
      }
      // The server ended that connection: once the client reads again, it finds the end.
      slow.resume();
      await eventually(() => slowClosed, 'the slow connection to be closed');
      const after = await h.hub.publish({ topics: [topic], data: 'after' });
      published.push(after);
      for (const conn of fast) {
        await conn.waitFor(() => conn.events.at(-1)?.lastEventId === after, 'the update after');
        assert.deepEqual(
          conn.events.map((e) => e.lastEventId),
          published,
        );
        assert.equal(conn.ended, false);
      }
      assert.ok(
        lines.some(
          (l) => l.includes('"event":"stream_close"') && l.includes('"reason":"overflow"'),
        ),
        'the cut is logged',
      );
      // The hub's own totals, as the console charts them: every update published through
      // `hub.publish`, a delivery per fast reader (the slow one took some too), one cut-off.
      const stats = h.hub.stats;
      assert.equal(stats.published, published.length);
      assert.equal(stats.cutOffs, 1);
      assert.ok(stats.deliveries >= published.length * fast.length, String(stats.deliveries));
    } finally {
      slow.destroy();
      for (const conn of fast) conn.close();
      await h.close();
    }
  });
});

describe('shutdown', () => {
  it('ends every stream, refuses new requests with 503, closes the transport', async () => {
    const transport = createMemoryTransport();
    const { logger, lines } = capturingLogger();
    const h = await startHub({ anonymous: true, transport, logger });
    const conns = [
      await openSse(subscribeUrl(h.url, ['a'])),
      await openSse(subscribeUrl(h.url, ['*'])),
    ];
    try {
      assert.equal(h.hub.subscriberCount, 2);
      assert.equal(h.hub.accepting, true);
      const done = h.hub.shutdown();
      assert.equal(h.hub.accepting, false);
      assert.equal(h.hub.shutdown(), done, 'shutdown is idempotent');
      await done;
      for (const conn of conns) await conn.waitForEnd();
      assert.equal(h.hub.subscriberCount, 0);
      const res = await getText(subscribeUrl(h.url, ['a']));
      assert.equal(res.status, 503);
      assert.match(res.body, /shutting down/);
      const publish = await fetch(h.url, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: 'topic=a',
      });
      assert.equal(publish.status, 503);
      await assert.rejects(
        transport.publish({ id: 'x', topics: ['a'], data: '', private: false }),
        (err) => isSseHubError(err, 'TRANSPORT_CLOSED'),
      );
      // One open and one close line per stream.
      assert.equal(lines.filter((l) => l.includes('"event":"stream_open"')).length, 2);
      assert.equal(lines.filter((l) => l.includes('"event":"stream_close"')).length, 2);
    } finally {
      for (const conn of conns) conn.close();
      await h.close();
    }
  });
});
