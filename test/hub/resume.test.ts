// Resume edge cases: a history far larger than the stream's queue bound, and ids outside ASCII
// (in the query, in the Last-Event-ID request header and in the response headers).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createMemoryTransport } from '../../src/transport/memory.js';
import {
  mintTestToken,
  postForm,
  type RunningHub,
  startHub,
  subscribeUrl,
} from '../helpers/hub-server.js';
import { eventually, openSse, type SseConnection } from '../helpers/sse-client.js';

const T = 'https://example.com/resume';

describe('resume over a large history', () => {
  let h: RunningHub;
  const open: SseConnection[] = [];
  const COUNT = 2000;
  before(async () => {
    h = await startHub({
      anonymous: true,
      maxReplay: 5000,
      transport: createMemoryTransport({ maxHistory: 5000 }),
    });
    await h.hub.publish({ topics: [T], data: 'before', id: 'start' });
    const data = 'x'.repeat(1000);
    for (let i = 0; i < COUNT; i++) {
      await h.hub.publish({ topics: [T], data: `${i}:${data}`, id: `u-${i}` });
    }
  });
  after(async () => {
    for (const conn of open) conn.close();
    await h.close();
  });

  it('replays ~2 MB of history in order, then a live update published meanwhile, once', async () => {
    const conn = await openSse(subscribeUrl(h.url, [T]), { headers: { 'last-event-id': 'start' } });
    open.push(conn);
    assert.equal(conn.status, 200);
    // Published as soon as the headers arrive, while most of the history is still to be written.
    await h.hub.publish({ topics: [T], data: 'live', id: 'live-1' });
    await conn.waitForEvents(COUNT + 1);
    const ids = conn.events.map((e) => e.lastEventId);
    assert.deepEqual(
      ids.slice(0, COUNT),
      Array.from({ length: COUNT }, (_, i) => `u-${i}`),
    );
    assert.equal(ids[COUNT], 'live-1');
    assert.equal(ids.filter((id) => id === 'live-1').length, 1);
    assert.equal(conn.ended, false);
  });
});

describe('resume from ids outside ASCII', () => {
  let h: RunningHub;
  const ID = 'https://e.x/ü€';
  before(async () => {
    h = await startHub({ anonymous: true });
    await h.hub.publish({ topics: [T], data: 'earlier', id: 'plain-1' });
    await h.hub.publish({ topics: [T], data: 'marker', id: ID });
    await h.hub.publish({ topics: [T], data: 'later', id: 'plain-2' });
  });
  after(() => h.close());

  it('opens the stream and echoes the id as UTF-8 bytes in both headers', async () => {
    const conn = await openSse(subscribeUrl(h.url, [T], { lastEventID: ID }));
    try {
      assert.equal(conn.status, 200);
      const decode = (v: unknown): string => Buffer.from(String(v), 'latin1').toString('utf8');
      assert.equal(decode(conn.headers['last-event-id']), ID);
      assert.equal(decode(conn.headers['mercure-last-event-id']), ID);
      await conn.waitForEvents(1);
      assert.deepEqual(
        conn.events.map((e) => e.data),
        ['later'],
      );
    } finally {
      conn.close();
    }
    await eventually(() => h.hub.subscriberCount === 0, 'no subscriber left');
  });

  it('reads the Last-Event-ID request header as UTF-8', async () => {
    // What a browser or the ssehub client puts on the wire: the id's UTF-8 bytes.
    const wire = Buffer.from(ID, 'utf8').toString('latin1');
    const conn = await openSse(subscribeUrl(h.url, [T]), { headers: { 'last-event-id': wire } });
    try {
      assert.equal(conn.status, 200);
      await conn.waitForEvents(1);
      assert.deepEqual(
        conn.events.map((e) => e.data),
        ['later'],
      );
      assert.equal(conn.headers['last-event-id'], wire);
    } finally {
      conn.close();
    }
    await eventually(() => h.hub.subscriberCount === 0, 'no subscriber left');
  });

  it('keeps a Last-Event-ID header that is not valid UTF-8 as Latin-1 text', async () => {
    await h.hub.publish({ topics: [T], data: 'after-latin1', id: 'café' });
    await h.hub.publish({ topics: [T], data: 'last', id: 'plain-3' });
    // 'café' sent as Latin-1 bytes (0xE9 alone is not UTF-8): Node reads it back as 'café'.
    const conn = await openSse(subscribeUrl(h.url, [T]), { headers: { 'last-event-id': 'café' } });
    try {
      await conn.waitForEvents(1);
      assert.deepEqual(
        conn.events.map((e) => e.data),
        ['last'],
      );
    } finally {
      conn.close();
    }
  });

  it('refuses control characters in a last event id (400) and a published id (400)', async () => {
    const res = await fetch(subscribeUrl(h.url, [T], { lastEventID: 'a\u0001b' }));
    assert.equal(res.status, 400);
    assert.match(await res.text(), /last event id/i);
    assert.equal(h.hub.subscriberCount, 0);
    const token = await mintTestToken({ publish: ['*'] });
    for (const id of ['ctl\u0001id', 'del\u007fid', 'tab\tid']) {
      const pub = await postForm(h.url, { topic: T, id }, { authorization: `Bearer ${token}` });
      assert.equal(pub.status, 400, JSON.stringify(id));
      assert.match(pub.body, /control characters/);
    }
  });
});

describe('a stream that fails to open', () => {
  it('answers 500 and unregisters the subscriber', async () => {
    const transport = createMemoryTransport();
    const h = await startHub({ anonymous: true, maxReplay: 1, transport });
    try {
      // Stored without the hub's validation (e.g. by an older version): an id no response
      // header can carry. With maxReplay 1 it becomes the Last-Event-ID of the answer.
      await transport.publish({ id: 'ctl\u0001id', topics: [T], data: 'a', private: false });
      await transport.publish({ id: 'ok', topics: [T], data: 'b', private: false });
      const res = await fetch(subscribeUrl(h.url, [T], { lastEventID: 'earliest' }));
      assert.equal(res.status, 500);
      await res.text();
      assert.equal(h.hub.subscriberCount, 0);
    } finally {
      await h.close();
    }
  });
});

describe('an empty cursor', () => {
  let h: RunningHub;
  const open: SseConnection[] = [];
  const topic = 'https://example.com/empty-cursor';
  before(async () => {
    h = await startHub({ anonymous: true });
    await h.hub.publish({ topics: [topic], data: 'old', id: 'old-1' });
  });
  after(async () => {
    for (const conn of open) conn.close();
    await h.close();
  });

  async function subscribe(url: string, headers: Record<string, string> = {}) {
    const conn = await openSse(url, { headers });
    open.push(conn);
    return conn;
  }

  for (const [label, extra, headers] of [
    ['last_event_id=', { last_event_id: '' }, {}],
    ['lastEventID= (draft 07)', { lastEventID: '' }, {}],
    ['an empty Last-Event-ID header', {}, { 'last-event-id': '' }],
  ] as const) {
    it(`${label}: answers Mercure-Last-Event-ID: earliest and replays nothing`, async () => {
      const url = subscribeUrl(h.url, [], { match: topic, ...extra });
      const conn = await subscribe(url, headers);
      assert.equal(conn.status, 200);
      assert.equal(conn.headers['mercure-last-event-id'], 'earliest');
      assert.equal(conn.headers['last-event-id'], 'earliest');
      // Live updates still flow; the retained one is not replayed.
      await h.hub.publish({ topics: [topic], data: 'live' });
      const [event] = await conn.waitForEvents(1);
      assert.equal(event!.data, 'live');
      await new Promise((resolve) => setTimeout(resolve, 20));
      assert.deepEqual(
        conn.events.map((e) => e.data),
        ['live'],
      );
    });
  }

  it('an empty header does not hide a non-empty last_event_id (as upstream)', async () => {
    const url = subscribeUrl(h.url, [], { match: topic, last_event_id: 'old-1' });
    const conn = await subscribe(url, { 'last-event-id': '' });
    assert.equal(conn.headers['mercure-last-event-id'], 'old-1');
  });

  it('no cursor at all: no Mercure-Last-Event-ID', async () => {
    const conn = await subscribe(subscribeUrl(h.url, [], { match: topic }));
    assert.equal(conn.headers['mercure-last-event-id'], undefined);
  });
});
