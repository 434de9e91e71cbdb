import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import {
  EventSource,
  type HistoryLostEvent,
  type OpenEvent,
  type ReconnectingEvent,
  type SseErrorEvent,
} from '../../src/client/index.js';
import { frame } from '../helpers/misbehaving-server.js';
import { nextEvent, serve, within } from './support.js';

function open(t: TestContext, url: string, init?: ConstructorParameters<typeof EventSource>[1]) {
  const es = new EventSource(url, init);
  t.after(() => es.close());
  return es;
}

describe('EventSource (compatible class)', () => {
  it('has the standard shape: constants, url, withCredentials, handlers', async (t) => {
    const server = await serve(t, (conn) => conn.reply(204));
    const es = open(t, `${server.origin}/a/../stream?x=1`, { withCredentials: true });
    assert.ok(es instanceof EventTarget);
    assert.deepEqual([EventSource.CONNECTING, EventSource.OPEN, EventSource.CLOSED], [0, 1, 2]);
    assert.deepEqual([es.CONNECTING, es.OPEN, es.CLOSED], [0, 1, 2]);
    assert.equal(es.url, `${server.origin}/stream?x=1`);
    assert.equal(es.withCredentials, true);
    assert.equal(es.readyState, EventSource.CONNECTING);
    assert.equal(es.onopen, null);
    const handler = () => {};
    es.onmessage = handler;
    assert.equal(es.onmessage, handler);
    assert.equal(open(t, server.origin).withCredentials, false);
  });

  it('delivers onmessage and named events as MessageEvents, with readyState along the way', async (t) => {
    const server = await serve(t, async (conn) => {
      if (conn.index > 0) return conn.reply(204);
      await conn.open({ 'x-stream': 'yes' });
      await conn.write(`${frame('1', 'hello')}${frame('2', '{"n":2}', 'tick')}`);
      await conn.end();
    });
    const es = open(t, server.origin, { initialDelayMs: 1 });
    const states: [string, number, number][] = [];
    const messages: MessageEvent[] = [];
    const ticks: MessageEvent[] = [];
    es.onopen = (ev) => states.push(['open', es.readyState, ev.status]);
    es.onmessage = (ev) => messages.push(ev);
    es.addEventListener('tick', (ev) => ticks.push(ev));
    const errors: [number, string | undefined][] = [];
    const closed = new Promise<void>((resolve) => {
      es.onerror = (ev) => {
        errors.push([es.readyState, ev.error?.code]);
        if (es.readyState === EventSource.CLOSED) resolve();
      };
    });
    const opened = nextEvent<OpenEvent>(es, 'open');
    const openEvent = await opened;
    assert.equal(openEvent.status, 200);
    assert.equal(openEvent.headers.get('x-stream'), 'yes');
    await within(closed, 'the final error');

    assert.deepEqual(states, [['open', EventSource.OPEN, 200]]);
    assert.equal(messages.length, 1);
    const [message] = messages;
    assert.ok(message instanceof MessageEvent);
    assert.equal(message.type, 'message');
    assert.equal(message.data, 'hello');
    assert.equal(message.lastEventId, '1');
    assert.equal(message.origin, server.origin);
    assert.equal(ticks.length, 1);
    assert.equal(ticks[0]?.type, 'tick');
    assert.equal(JSON.parse(ticks[0]?.data).n, 2);
    assert.equal(ticks[0]?.lastEventId, '2');
    // The stream ended (error while CONNECTING), then the 204 closed it for good.
    assert.deepEqual(errors, [
      [EventSource.CONNECTING, 'CONNECTION_LOST'],
      [EventSource.CLOSED, undefined],
    ]);
    assert.equal(es.readyState, EventSource.CLOSED);
    assert.equal(server.requests[1]?.headers['last-event-id'], '2');
  });

  it('fires reconnecting with the chosen delay, then resumes', async (t) => {
    const server = await serve(t, async (conn) => {
      if (conn.index === 0) return conn.reply(502, {}, 'bad gateway');
      await conn.open();
      await conn.write(frame('9', 'back'));
    });
    const es = open(t, server.origin, { initialDelayMs: 300, random: () => 0.5 });
    const reconnecting = await nextEvent<ReconnectingEvent>(es, 'reconnecting');
    assert.equal(reconnecting.attempt, 0);
    // Jitter over [MIN_RECONNECT_DELAY_MS, 300]: 100 + floor(0.5 * 201).
    assert.equal(reconnecting.delayMs, 200);
    assert.equal(reconnecting.error.code, 'HTTP_ERROR');
    const message = await nextEvent<MessageEvent>(es, 'message');
    assert.equal(message.data, 'back');
    assert.equal(es.readyState, EventSource.OPEN);
    assert.equal(es.lastEventId, '9');
  });

  it('close() stops at once: no more events, no reconnect', async (t) => {
    const server = await serve(t, async (conn) => {
      await conn.open();
      await conn.write(frame('1', 'a') + frame('2', 'b') + frame('3', 'c'));
    });
    const es = open(t, server.origin, { initialDelayMs: 1 });
    const seen: string[] = [];
    const first = new Promise<void>((resolve) => {
      es.addEventListener('message', (ev) => {
        seen.push(ev.data);
        es.close();
        resolve();
      });
    });
    let errors = 0;
    es.onerror = () => errors++;
    await within(first, 'the first message');
    assert.equal(es.readyState, EventSource.CLOSED);
    await within(server.waitForRequests(1), 'the request');
    assert.deepEqual(seen, ['a'], 'events after close() in the same chunk are dropped');
    assert.equal(errors, 0);
    assert.equal(server.requests.length, 1);
  });

  it('a handler set again keeps its place; null removes it', async (t) => {
    const server = await serve(t, async (conn) => {
      await conn.open();
      await conn.write(frame('1', 'a'));
    });
    const es = open(t, server.origin);
    const order: string[] = [];
    es.onmessage = () => order.push('old handler');
    es.addEventListener('message', () => order.push('listener'));
    es.onmessage = () => order.push('handler');
    await nextEvent(es, 'message');
    assert.deepEqual(order, ['handler', 'listener']);
    es.onmessage = null;
    assert.equal(es.onmessage, null);
  });

  it('fires history-lost when the hub answers another Last-Event-ID', async (t) => {
    const server = await serve(t, async (conn) => {
      await conn.open({ 'mercure-last-event-id': 'earliest' });
      await conn.write(frame('100', 'oldest kept'));
    });
    const es = open(t, server.origin, { lastEventId: '42' });
    const lost = await nextEvent<HistoryLostEvent>(es, 'history-lost');
    assert.equal(lost.requested, '42');
    assert.equal(lost.returned, 'earliest');
    assert.equal(server.requests[0]?.headers['last-event-id'], '42');
  });

  it('reports a fatal HTTP error as an error event with readyState CLOSED', async (t) => {
    const server = await serve(t, (conn) => conn.reply(401, {}, 'who are you'));
    const es = open(t, server.origin, { initialDelayMs: 1 });
    const ev = await nextEvent<SseErrorEvent>(es, 'error');
    assert.equal(es.readyState, EventSource.CLOSED);
    assert.equal(ev.error?.code, 'HTTP_ERROR');
    assert.match(ev.error?.message ?? '', /401: who are you/);
  });

  it('rejects an invalid URL with INVALID_OPTION', () => {
    assert.throws(() => new EventSource('not a url'), { code: 'INVALID_OPTION' });
  });
});
