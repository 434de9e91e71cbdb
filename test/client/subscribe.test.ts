import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type FetchLike, type SseEvent, subscribe } from '../../src/client/index.js';
import { frame } from '../helpers/misbehaving-server.js';
import { collect, serve, within } from './support.js';

describe('subscribe (async iterator)', () => {
  it('ends cleanly when its signal aborts, and closes the connection', async (t) => {
    let connectionClosed: Promise<void> | undefined;
    const server = await serve(t, async (conn) => {
      connectionClosed = conn.closed;
      await conn.open();
      await conn.write(frame('1', 'a') + frame('2', 'b'));
    });
    const controller = new AbortController();
    const seen: string[] = [];
    const loop = async () => {
      for await (const event of subscribe(server.origin, { signal: controller.signal })) {
        seen.push(event.data);
        if (event.data === 'b') controller.abort();
      }
      return 'ended';
    };
    assert.equal(await within(loop(), 'the loop to end'), 'ended');
    assert.deepEqual(seen, ['a', 'b']);
    await within(connectionClosed as Promise<void>, 'the server to see the close');
    assert.equal(server.requests.length, 1);
  });

  it('ends a loop that is waiting for the next event when the signal aborts', async (t) => {
    const server = await serve(t, async (conn) => {
      await conn.open();
      await conn.write(frame('1', 'only'));
    });
    const controller = new AbortController();
    const sub = subscribe(server.origin, { signal: controller.signal });
    const first = await within(sub.next(), 'the first event');
    assert.equal(first.value?.data, 'only');
    const pending = sub.next();
    controller.abort();
    assert.deepEqual(await within(pending, 'the pending next()'), { value: undefined, done: true });
    assert.equal(sub.readyState, 2);
  });

  it('never connects with an already aborted signal', async (t) => {
    const server = await serve(t, (conn) => conn.reply(204));
    const events = await collect(subscribe(server.origin, { signal: AbortSignal.abort() }));
    assert.deepEqual(events, []);
    assert.equal(server.requests.length, 0);
  });

  it('break closes the connection; nothing connects before the first next()', async (t) => {
    let connectionClosed: Promise<void> | undefined;
    const server = await serve(t, async (conn) => {
      connectionClosed = conn.closed;
      await conn.open();
      await conn.write(frame('1', 'a'));
    });
    const sub = subscribe(server.origin);
    assert.equal(server.requests.length, 0);
    for await (const event of sub) {
      assert.equal(event.data, 'a');
      break;
    }
    await within(connectionClosed as Promise<void>, 'the server to see the close');
    assert.equal(sub.readyState, 2);
    assert.equal(sub.lastEventId, '1');
  });

  it('delivers every event in order through a tiny queue (back-pressure)', async (t) => {
    const count = 300;
    const server = await serve(t, async (conn) => {
      if (conn.index > 0) return conn.reply(204);
      await conn.open();
      for (let i = 0; i < count; i += 50) {
        const batch = Array.from({ length: 50 }, (_, j) => frame(String(i + j), `e${i + j}`));
        await conn.write(batch.join(''));
      }
      await conn.end();
    });
    const events: SseEvent[] = [];
    const loop = async () => {
      for await (const event of subscribe(server.origin, {
        maxQueuedEvents: 2,
        initialDelayMs: 1,
      })) {
        events.push(event);
        // A slow consumer: every event costs a macrotask.
        await new Promise((resolve) => setImmediate(resolve));
      }
    };
    await within(loop(), 'all events');
    assert.deepEqual(
      events.map((e) => e.data),
      Array.from({ length: count }, (_, i) => `e${i}`),
    );
  });

  it('stops reading from the network while its queue is full', async () => {
    let pulled = 0;
    const encoder = new TextEncoder();
    // An endless stream that produces one event each time the client reads.
    const fetch: FetchLike = async () =>
      new Response(
        new ReadableStream<Uint8Array>(
          {
            async pull(controller) {
              // Like a socket: data arrives on a later turn of the event loop.
              await new Promise((resolve) => setImmediate(resolve));
              pulled++;
              controller.enqueue(encoder.encode(`data: ${pulled}\n\n`));
            },
          },
          { highWaterMark: 0 },
        ),
        { headers: { 'content-type': 'text/event-stream' } },
      );
    const sub = subscribe('http://stream.test/', { fetch, maxQueuedEvents: 3 });
    try {
      assert.equal((await within(sub.next(), 'the first event')).value?.data, '1');
      // Give an unbounded reader plenty of turns to run away.
      for (let i = 0; i < 200; i++) await new Promise((resolve) => setImmediate(resolve));
      const stalled = pulled;
      assert.ok(stalled <= 6, `read ${stalled} chunks for a queue of 3`);
      for (let i = 0; i < 10; i++) await within(sub.next(), 'more events');
      assert.ok(pulled > stalled, 'reading resumes as the loop drains the queue');
    } finally {
      sub.close();
    }
  });

  it('reports open, reconnecting and retried errors through hooks', async (t) => {
    const server = await serve(t, async (conn) => {
      if (conn.index === 0) return conn.reply(500);
      if (conn.index > 1) return conn.reply(204);
      await conn.open({ 'x-node': 'n1' });
      await conn.write(frame('1', 'x'));
      await conn.end();
    });
    const log: string[] = [];
    await collect(
      subscribe(server.origin, {
        initialDelayMs: 1,
        onOpen: (info) => log.push(`open ${info.status} ${info.headers.get('x-node')}`),
        onError: (err) => log.push(`error ${err.code}`),
        onReconnecting: (info) => log.push(`reconnecting ${info.attempt}`),
      }),
    );
    assert.deepEqual(log, [
      'error HTTP_ERROR',
      'reconnecting 0',
      'open 200 n1',
      'error CONNECTION_LOST',
      'reconnecting 0',
    ]);
  });

  it('a throwing hook ends the iteration with its error', async (t) => {
    const server = await serve(t, async (conn) => {
      await conn.open();
      await conn.write(frame('1', 'x'));
    });
    const boom = new Error('hook failed');
    const sub = subscribe(server.origin, {
      onOpen: () => {
        throw boom;
      },
    });
    await assert.rejects(collect(sub), (err) => err === boom);
    assert.equal(sub.readyState, 2);
  });

  it('validates options', () => {
    assert.throws(() => subscribe('http://x.test/', { maxQueuedEvents: 0 }), {
      code: 'INVALID_OPTION',
    });
    assert.throws(() => subscribe('http://x.test/', { initialDelayMs: -1 }), {
      code: 'INVALID_OPTION',
    });
    assert.throws(() => subscribe('http://x.test/', { body: 'x' }), { code: 'INVALID_OPTION' });
    assert.throws(() => subscribe('http://x.test/', { lastEventId: 'a\nb' }), {
      code: 'INVALID_OPTION',
    });
  });
});
