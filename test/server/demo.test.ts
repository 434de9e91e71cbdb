import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe, it } from 'node:test';
import { isSseHubError } from '../../src/errors.js';
import type { ParsedEvent } from '../../src/protocol/types.js';
import { createDemoHandler } from '../../src/server/demo/index.js';
import { listen, openSse, type SseConnection } from '../helpers/sse-client.js';

const ALLOWED = 'http://allowed.example';

function currentTimes(conn: SseConnection): ParsedEvent[] {
  return conn.events.filter((e) => e.type === 'currentTime');
}

describe('demo handler', () => {
  const demo = createDemoHandler({ allowedOrigins: [ALLOWED] });
  const server = http.createServer(demo);
  let base = '';
  before(async () => {
    base = await listen(server);
  });
  after(() => {
    demo.close();
    server.closeAllConnections();
    server.close();
  });

  it('serves the page with an EventSource and its four listeners', async () => {
    const res = await fetch(`${base}/`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'text/html; charset=utf-8');
    const html = await res.text();
    assert.match(html, /new EventSource\("events"\)/);
    for (const type of ['open', 'message', 'currentTime', 'error']) {
      assert.match(html, new RegExp(`addEventListener\\('${type}'`));
    }
  });

  it('sends hello, then currentTime every tick with monotonic ids, on /events and /sse', async () => {
    const a = await openSse(`${base}/events`);
    const b = await openSse(`${base}/sse`);
    try {
      for (const conn of [a, b]) {
        assert.equal(conn.status, 200);
        assert.equal(conn.headers['content-type'], 'text/event-stream');
        assert.equal(conn.headers.vary, 'Origin');
      }
      assert.equal(demo.streams, 2);
      await a.waitFor(() => currentTimes(a).length >= 2, '2 currentTime events on /events');
      await b.waitFor(() => currentTimes(b).length >= 2, '2 currentTime events on /sse');
      for (const conn of [a, b]) {
        const hello = conn.events[0];
        assert.equal(hello?.type, 'message');
        assert.match(hello?.data ?? '', /^hello/);
        assert.deepEqual(conn.retries, [2000]);
        const times = currentTimes(conn);
        const data = times.map((e) => e.data);
        assert.equal(new Set(data).size, data.length, 'distinct times');
        for (const d of data) assert.equal(new Date(d).toISOString(), d, 'an ISO UTC time');
        const ids = times.map((e) => Number(e.lastEventId));
        for (let i = 1; i < ids.length; i++) {
          assert.ok((ids[i] as number) > (ids[i - 1] as number), `ids go up: ${ids}`);
        }
      }
      // One clock for everyone: the same tick reaches both streams with the same id and time.
      const fromA = new Map(currentTimes(a).map((e) => [e.lastEventId, e.data]));
      const shared = currentTimes(b).filter((e) => fromA.has(e.lastEventId));
      assert.ok(shared.length >= 1);
      for (const e of shared) assert.equal(fromA.get(e.lastEventId), e.data);
    } finally {
      a.close();
      b.close();
    }
  });

  it('mentions the Last-Event-ID a client resumes from', async () => {
    const conn = await openSse(`${base}/events`, { headers: { 'last-event-id': '1700000000000' } });
    try {
      await conn.waitForEvents(1);
      assert.match(conn.events[0]?.data ?? '', /Resuming after event 1700000000000/);
      assert.equal(conn.events[0]?.lastEventId, '1700000000000', 'the hello keeps the id');
    } finally {
      conn.close();
    }
  });

  it('allows a listed origin with credentials and refuses others', async () => {
    const ok = await openSse(`${base}/events`, { headers: { origin: ALLOWED } });
    try {
      assert.equal(ok.status, 200);
      assert.equal(ok.headers['access-control-allow-origin'], ALLOWED);
      assert.equal(ok.headers['access-control-allow-credentials'], 'true');
      assert.equal(ok.headers.vary, 'Origin');
    } finally {
      ok.close();
    }
    const denied = await fetch(`${base}/events`, { headers: { origin: 'http://evil.example' } });
    assert.equal(denied.status, 403);
    assert.equal(denied.headers.get('access-control-allow-origin'), null);
    assert.equal(denied.headers.get('vary'), 'Origin');
    await denied.text();

    const same = await openSse(`${base}/events`, { headers: { origin: base } });
    try {
      assert.equal(same.status, 200, 'the page’s own origin');
    } finally {
      same.close();
    }
  });

  it('answers a preflight for a listed origin only', async () => {
    const ok = await fetch(`${base}/events`, {
      method: 'OPTIONS',
      headers: {
        origin: ALLOWED,
        'access-control-request-method': 'GET',
        'access-control-request-headers': 'last-event-id',
      },
    });
    assert.equal(ok.status, 204);
    assert.equal(ok.headers.get('access-control-allow-origin'), ALLOWED);
    assert.equal(ok.headers.get('access-control-allow-credentials'), 'true');
    assert.match(ok.headers.get('access-control-allow-methods') ?? '', /GET/);
    assert.match(ok.headers.get('access-control-allow-headers') ?? '', /Last-Event-ID/);
    const denied = await fetch(`${base}/events`, {
      method: 'OPTIONS',
      headers: { origin: 'http://evil.example', 'access-control-request-method': 'GET' },
    });
    assert.equal(denied.status, 403);
    assert.equal(denied.headers.get('access-control-allow-origin'), null);
  });

  it('answers 404 and 405 outside its routes', async () => {
    const missing = await fetch(`${base}/nope`);
    assert.equal(missing.status, 404);
    await missing.text();
    const post = await fetch(`${base}/events`, { method: 'POST', body: 'x' });
    assert.equal(post.status, 405);
    assert.equal(post.headers.get('allow'), 'GET, OPTIONS');
    await post.text();
  });

  it('refuses a wildcard or malformed origin in its options', () => {
    for (const allowedOrigins of [['*'], ['null'], ['not a url'], ['http://x.example/path']]) {
      assert.throws(
        () => createDemoHandler({ allowedOrigins }),
        (err: unknown) => isSseHubError(err, 'INVALID_OPTION'),
        String(allowedOrigins),
      );
    }
  });

  it('close() ends every stream', async () => {
    const local = createDemoHandler();
    const localServer = http.createServer(local);
    const localBase = await listen(localServer);
    try {
      const conn = await openSse(`${localBase}/events`);
      await conn.waitForEvents(1);
      assert.equal(local.streams, 1);
      local.close();
      await conn.waitForEnd();
      assert.equal(local.streams, 0);
      const after = await fetch(`${localBase}/events`);
      assert.equal(after.status, 503);
      await after.text();
    } finally {
      localServer.closeAllConnections();
      localServer.close();
    }
  });
});
