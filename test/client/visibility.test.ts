import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { EventSource, type FetchLike } from '../../src/client/index.js';
import { frame, startMisbehavingServer } from '../helpers/misbehaving-server.js';
import { nextEvent, within } from './support.js';

// Node has no page visibility; this stands in for the browser's `document` (only the parts the
// client reads), installed for this file's process only.
function countingFetch() {
  const spy = {
    calls: 0,
    fetch: ((url, init) => {
      spy.calls++;
      return fetch(url, init);
    }) as FetchLike,
  };
  return spy;
}

class FakeDocument extends EventTarget {
  visibilityState: 'visible' | 'hidden' = 'visible';
  set(state: 'visible' | 'hidden'): void {
    this.visibilityState = state;
    this.dispatchEvent(new Event('visibilitychange'));
  }
}

describe('pauseWhenHidden', () => {
  const doc = new FakeDocument();
  (globalThis as { document?: unknown }).document = doc;
  after(() => {
    delete (globalThis as { document?: unknown }).document;
  });

  it('closes while hidden and resumes with Last-Event-ID when visible', async (t) => {
    const closedConnections: Promise<void>[] = [];
    const server = await startMisbehavingServer(async (conn) => {
      closedConnections.push(conn.closed);
      await conn.open();
      await conn.write(frame(String(conn.index + 1), `from ${conn.index}`));
    });
    t.after(() => server.close());
    const spy = countingFetch();
    const es = new EventSource(server.origin, {
      pauseWhenHidden: true,
      initialDelayMs: 1,
      fetch: spy.fetch,
    });
    t.after(() => es.close());
    let errors = 0;
    es.onerror = () => errors++;

    assert.equal((await nextEvent<MessageEvent>(es, 'message')).data, 'from 0');
    doc.set('hidden');
    await within(closedConnections[0] as Promise<void>, 'the hidden page to disconnect');
    assert.equal(es.readyState, EventSource.CONNECTING);
    assert.equal(spy.calls, 1, 'no reconnect while hidden');

    const resumed = nextEvent<MessageEvent>(es, 'message');
    doc.set('visible');
    assert.equal((await resumed).data, 'from 1');
    assert.equal(server.requests[1]?.headers['last-event-id'], '1');
    assert.equal(errors, 0, 'pausing is not an error');
  });

  it('stays off by default', async (t) => {
    const server = await startMisbehavingServer(async (conn) => {
      await conn.open();
      await conn.write(frame('1', 'x'));
    });
    t.after(() => server.close());
    const es = new EventSource(server.origin);
    t.after(() => es.close());
    await nextEvent(es, 'message');
    doc.set('hidden');
    assert.equal(es.readyState, EventSource.OPEN);
    doc.set('visible');
  });

  it('does not connect when created on a hidden page until it is shown', async (t) => {
    const server = await startMisbehavingServer(async (conn) => {
      await conn.open();
      await conn.write(frame('1', 'shown'));
    });
    t.after(() => server.close());
    doc.visibilityState = 'hidden';
    const spy = countingFetch();
    const es = new EventSource(server.origin, { pauseWhenHidden: true, fetch: spy.fetch });
    t.after(() => es.close());
    const message = nextEvent<MessageEvent>(es, 'message');
    // An unpaused client calls fetch synchronously from its constructor.
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(spy.calls, 0);
    doc.set('visible');
    assert.equal((await message).data, 'shown');
  });
});
