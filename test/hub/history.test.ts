import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createMemoryTransport } from '../../src/transport/memory.js';
import type { Transport } from '../../src/transport/types.js';
import {
  mintTestToken,
  publishOk,
  type RunningHub,
  startHub,
  subscribeUrl,
} from '../helpers/hub-server.js';
import { openSse, type SseConnection } from '../helpers/sse-client.js';

const T = 'https://example.com/history';

describe('history and resume', () => {
  let h: RunningHub;
  const ids: string[] = [];
  const open: SseConnection[] = [];
  before(async () => {
    h = await startHub({ anonymous: true });
    for (let i = 0; i < 5; i++) ids.push(await publishOk(h.url, { topic: T, data: `h${i}` }));
    // Noise on another topic, which no resume below may replay.
    await publishOk(h.url, { topic: 'https://example.com/other', data: 'noise' });
  });
  after(async () => {
    for (const conn of open) conn.close();
    await h.close();
  });

  async function subscribe(url: string, headers?: Record<string, string>) {
    const conn = await openSse(url, headers ? { headers } : {});
    open.push(conn);
    return conn;
  }

  it('replays after the Last-Event-ID header and answers with both last-event-id headers', async () => {
    const conn = await subscribe(subscribeUrl(h.url, [T]), { 'last-event-id': ids[1]! });
    const events = await conn.waitForEvents(3);
    assert.deepEqual(
      events.map((e) => e.data),
      ['h2', 'h3', 'h4'],
    );
    assert.equal(conn.headers['last-event-id'], ids[1]);
    assert.equal(conn.headers['mercure-last-event-id'], ids[1]);
  });

  it('accepts lastEventID (draft 07) and last_event_id (draft 08) in the query', async () => {
    const d7 = await subscribe(subscribeUrl(h.url, [T], { lastEventID: ids[2]! }));
    const d8 = await subscribe(subscribeUrl(h.url, [T], { last_event_id: ids[3]! }));
    assert.deepEqual(
      (await d7.waitForEvents(2)).map((e) => e.data),
      ['h3', 'h4'],
    );
    assert.deepEqual(
      (await d8.waitForEvents(1)).map((e) => e.data),
      ['h4'],
    );
    assert.equal(d7.headers['last-event-id'], ids[2]);
    assert.equal(d8.headers['mercure-last-event-id'], ids[3]);
  });

  it('lets the header win over the query parameter', async () => {
    const conn = await subscribe(subscribeUrl(h.url, [T], { lastEventID: ids[0]! }), {
      'last-event-id': ids[3]!,
    });
    assert.deepEqual(
      (await conn.waitForEvents(1)).map((e) => e.data),
      ['h4'],
    );
    assert.equal(conn.headers['last-event-id'], ids[3]);
    // Nothing else was replayed: a live marker comes right after.
    const marker = await publishOk(h.url, { topic: T, data: 'marker-1' });
    await conn.waitFor(() => conn.events.some((e) => e.lastEventId === marker), 'marker');
    assert.deepEqual(
      conn.events.map((e) => e.data),
      ['h4', 'marker-1'],
    );
  });

  it('rejects a last event id that would inject response headers, echoing nothing', async () => {
    for (const name of ['lastEventID', 'last_event_id']) {
      const res = await fetch(
        subscribeUrl(h.url, [T], { [name]: `${ids[0]}\r\nSet-Cookie: stolen=1` }),
      );
      assert.equal(res.status, 400, name);
      assert.match(await res.text(), /last event id is invalid/);
      assert.equal(res.headers.get('set-cookie'), null);
      assert.equal(res.headers.get('last-event-id'), null);
      assert.equal(res.headers.get('mercure-last-event-id'), null);
    }
  });

  it('replays all retained history for earliest', async () => {
    const conn = await subscribe(subscribeUrl(h.url, [T], { lastEventID: 'earliest' }));
    const events = await conn.waitForEvents(5);
    assert.deepEqual(
      events.slice(0, 5).map((e) => e.data),
      ['h0', 'h1', 'h2', 'h3', 'h4'],
    );
    assert.equal(conn.headers['last-event-id'], 'earliest');
    assert.equal(conn.headers['mercure-last-event-id'], 'earliest');
  });

  it('answers earliest for an unknown id, so the client can tell that events were lost', async () => {
    const conn = await subscribe(subscribeUrl(h.url, [T]), { 'last-event-id': 'urn:uuid:gone' });
    assert.equal(conn.headers['last-event-id'], 'earliest');
    assert.equal(conn.headers['mercure-last-event-id'], 'earliest');
  });

  it('names the predecessor of the first event sent when maxReplay trims the history', async () => {
    const small = await startHub({ anonymous: true, maxReplay: 2 });
    try {
      const own: string[] = [];
      for (let i = 0; i < 5; i++) own.push(await publishOk(small.url, { topic: T, data: `s${i}` }));
      const conn = await openSse(subscribeUrl(small.url, [T], { lastEventID: own[0]! }));
      open.push(conn);
      assert.deepEqual(
        (await conn.waitForEvents(2)).map((e) => e.data),
        ['s3', 's4'],
      );
      assert.equal(conn.headers['last-event-id'], own[2]);
    } finally {
      await small.close();
    }
  });

  it('filters private updates in history by the same rule as live ones', async () => {
    const topic = 'https://example.com/private-history';
    const start = await publishOk(h.url, { topic, data: 'start' });
    await publishOk(h.url, { topic, data: 'secret', private: 'on' });
    await publishOk(h.url, { topic, data: 'public' });
    const anonymous = await subscribe(subscribeUrl(h.url, [topic], { lastEventID: start }));
    const token = await mintTestToken({ subscribe: [topic] });
    const authorized = await subscribe(subscribeUrl(h.url, [topic], { lastEventID: start }), {
      authorization: `Bearer ${token}`,
    });
    assert.deepEqual(
      (await authorized.waitForEvents(2)).map((e) => e.data),
      ['secret', 'public'],
    );
    assert.deepEqual(
      (await anonymous.waitForEvents(1)).map((e) => e.data),
      ['public'],
    );
  });
});

/**
 * A memory transport whose history reads behave like a networked store's: the snapshot is taken a
 * few event-loop turns after the request and answered a few turns later. Updates published before
 * the snapshot reach the subscriber both live (buffered) and in its history, which the hub must
 * de-duplicate; updates published after it must still reach the subscriber live (no gap).
 */
function lateSnapshotTransport(): Transport {
  const inner = createMemoryTransport({ maxHistory: 1_000_000 });
  const turns = async () => {
    for (let i = 0; i < 3; i++) await new Promise((resolve) => setImmediate(resolve));
  };
  // Each read answers what the store held when it started, a few turns later.
  async function late<T>(read: () => Promise<T>): Promise<T> {
    await turns();
    const result = await read();
    await turns();
    return result;
  }
  return {
    publish: (update) => inner.publish(update),
    subscribe: (listener) => inner.subscribe(listener),
    replay: (afterId, options) => late(() => inner.replay(afterId, options)),
    positionOf: (id) => late(() => inner.positionOf(id)),
    bounds: () => late(() => inner.bounds()),
    read: (after, until, limit) => late(() => inner.read(after, until, limit)),
    lastId: () => inner.lastId(),
    close: () => inner.close(),
  };
}

describe('resume while publishing continuously', () => {
  const transports: [string, () => Transport][] = [
    ['the memory transport', () => createMemoryTransport({ maxHistory: 1_000_000 })],
    ['a transport whose history snapshot lags', lateSnapshotTransport],
  ];
  for (const [name, makeTransport] of transports) {
    it(`gives every joining subscriber each later update exactly once, in order (${name})`, async () => {
      // History large enough that no joiner's id is dropped while it joins.
      const h = await startHub({ anonymous: true, transport: makeTransport() });
      const topic = 'https://example.com/stream';
      const published: string[] = [];
      let stop = false;
      // Programmatic publishes back to back, interleaved with the joins below by the event loop.
      const publisher = (async () => {
        let n = 0;
        while (!stop) {
          published.push(await h.hub.publish({ topics: [topic], data: `n${n++}` }));
          if (n % 10 === 0) await new Promise((resolve) => setImmediate(resolve));
        }
      })();
      const joiners: { conn: SseConnection; after: string }[] = [];
      try {
        const N = 8;
        for (let i = 0; i < N; i++) {
          // Join at points spread over the history so far.
          await new Promise((resolve) => setImmediate(resolve));
          const known = published.slice();
          const after = known[Math.floor((known.length * i) / N)] ?? 'earliest';
          const conn = await openSse(subscribeUrl(h.url, [topic]), {
            headers: { 'last-event-id': after },
          });
          joiners.push({ conn, after });
        }
        // Let the publisher run well past the last join, then stop and wait for everyone.
        const target = published.length + 200;
        while (published.length < target) await new Promise((resolve) => setImmediate(resolve));
        stop = true;
        await publisher;
        const last = published[published.length - 1]!;
        for (const { conn, after } of joiners) {
          await conn.waitFor(
            () => conn.events.some((e) => e.lastEventId === last),
            `the last update after ${after}`,
          );
          const start = after === 'earliest' ? 0 : published.indexOf(after) + 1;
          const expected = published.slice(start);
          const got = conn.events.map((e) => e.lastEventId);
          assert.equal(got.length, expected.length, `no gap and no duplicate after ${after}`);
          assert.deepEqual(got, expected);
        }
      } finally {
        stop = true;
        await publisher;
        for (const { conn } of joiners) conn.close();
        await h.close();
      }
    });
  }

  it('holds over HTTP publishes too', async () => {
    const h = await startHub({ anonymous: true, transport: lateSnapshotTransport() });
    const topic = 'https://example.com/http-stream';
    const token = await mintTestToken({ publish: [topic] });
    const published: string[] = [];
    let stop = false;
    const publisher = (async () => {
      let n = 0;
      while (!stop) published.push(await publishOk(h.url, { topic, data: `p${n++}` }, token));
    })();
    const joiners: { conn: SseConnection; after: string }[] = [];
    try {
      while (published.length < 20) await new Promise((resolve) => setTimeout(resolve, 1));
      for (let i = 0; i < 5; i++) {
        const after = published[published.length - 1 - i * 3]!;
        const conn = await openSse(subscribeUrl(h.url, [topic], { lastEventID: after }));
        joiners.push({ conn, after });
      }
      const target = published.length + 30;
      while (published.length < target) await new Promise((resolve) => setTimeout(resolve, 1));
      stop = true;
      await publisher;
      const last = published[published.length - 1]!;
      for (const { conn, after } of joiners) {
        await conn.waitFor(
          () => conn.events.some((e) => e.lastEventId === last),
          'the last update',
        );
        assert.deepEqual(
          conn.events.map((e) => e.lastEventId),
          published.slice(published.indexOf(after) + 1),
        );
      }
    } finally {
      stop = true;
      await publisher;
      for (const { conn } of joiners) conn.close();
      await h.close();
    }
  });
});
