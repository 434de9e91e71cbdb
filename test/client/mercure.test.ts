import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  discoverHub,
  type HistoryLostInfo,
  isSseHubError,
  mercureEventSource,
  mercureSubscribeUrl,
  publish,
  SseHubHttpError,
  subscribeTopics,
} from '../../src/client/index.js';
import { frame, startMisbehavingServer } from '../helpers/misbehaving-server.js';
import { collect, nextEvent, serve } from './support.js';

const HUB = '/.well-known/mercure';

describe('mercure: subscribe by topics', () => {
  it('builds topic= (draft 07) and match= (draft 08) URLs', () => {
    const topics = ['https://example.com/books/{id}', 'urn:a b&c'];
    assert.equal(
      mercureSubscribeUrl(`https://hub.test${HUB}?x=1`, topics),
      `https://hub.test${HUB}?x=1&topic=https%3A%2F%2Fexample.com%2Fbooks%2F%7Bid%7D&topic=urn%3Aa+b%26c`,
    );
    const url = new URL(mercureSubscribeUrl(`https://hub.test${HUB}`, topics, 8));
    assert.deepEqual(url.searchParams.getAll('match'), topics);
    assert.deepEqual(url.searchParams.getAll('topic'), []);
    assert.throws(() => mercureSubscribeUrl('https://hub.test/', []), { code: 'MISSING_TOPIC' });
  });

  it('sends the token as a Bearer header and reports lost history', async (t) => {
    const server = await serve(t, async (conn) => {
      if (conn.index > 0) return conn.reply(204);
      // A draft 07 hub answers Last-Event-ID: earliest when it no longer has the id.
      await conn.open({ 'last-event-id': 'earliest' });
      await conn.write(frame('urn:uuid:2', '{"title":"x"}'));
      await conn.end();
    });
    const lost: HistoryLostInfo[] = [];
    const events = await collect(
      subscribeTopics(`${server.origin}${HUB}`, {
        topics: ['/books/1', '/books/{id}'],
        token: 'jwt.token.here',
        lastEventId: 'urn:uuid:1',
        initialDelayMs: 1,
        onHistoryLost: (info) => lost.push(info),
      }),
    );
    assert.deepEqual(
      events.map((e) => e.data),
      ['{"title":"x"}'],
    );
    assert.deepEqual(lost, [{ requested: 'urn:uuid:1', returned: 'earliest' }]);
    const [first, second] = server.requests;
    const url = new URL(first?.url ?? '', server.origin);
    assert.equal(url.pathname, HUB);
    assert.deepEqual(url.searchParams.getAll('topic'), ['/books/1', '/books/{id}']);
    assert.equal(first?.headers.authorization, 'Bearer jwt.token.here');
    assert.equal(first?.headers['last-event-id'], 'urn:uuid:1');
    assert.equal(second?.headers['last-event-id'], 'urn:uuid:2');
    assert.equal(second?.headers.authorization, 'Bearer jwt.token.here');
  });

  it('reports nothing when the hub resumed from the requested id', async (t) => {
    const server = await serve(t, async (conn) => {
      if (conn.index > 0) return conn.reply(204);
      await conn.open({ 'mercure-last-event-id': 'urn:uuid:1', 'last-event-id': 'urn:uuid:1' });
      await conn.end();
    });
    const lost: HistoryLostInfo[] = [];
    await collect(
      subscribeTopics(`${server.origin}${HUB}`, {
        topics: ['/a'],
        draft: 8,
        lastEventId: 'urn:uuid:1',
        initialDelayMs: 1,
        onHistoryLost: (info) => lost.push(info),
      }),
    );
    assert.deepEqual(lost, []);
    assert.deepEqual(
      new URL(server.requests[0]?.url ?? '', server.origin).searchParams.getAll('match'),
      ['/a'],
    );
  });

  it('mercureEventSource refreshes a token function on reconnect and keeps user headers', async (t) => {
    const server = await serve(t, async (conn) => {
      await conn.open();
      await conn.write(frame(String(conn.index), 'x'));
      if (conn.index === 0) await conn.end();
    });
    let n = 0;
    const es = mercureEventSource(`${server.origin}${HUB}`, {
      topics: ['/a'],
      token: () => `token-${++n}`,
      headers: { 'x-app': 'demo' },
      initialDelayMs: 1,
    });
    t.after(() => es.close());
    await nextEvent(es, 'message');
    await nextEvent(es, 'message');
    assert.deepEqual(
      server.requests.map((r) => [r.headers.authorization, r.headers['x-app']]),
      [
        ['Bearer token-1', 'demo'],
        ['Bearer token-2', 'demo'],
      ],
    );
  });
});

describe('mercure: publish', () => {
  it('posts the form and resolves with the id the hub answered', async (t) => {
    const server = await serve(t, (conn) =>
      conn.reply(200, { 'content-type': 'text/plain' }, 'urn:uuid:abc\n'),
    );
    const id = await publish(
      `${server.origin}${HUB}`,
      {
        topics: ['https://example.com/books/1', '/alt'],
        data: 'a=b & c\nline 2',
        private: true,
        id: 'my-id',
        type: 'book.updated',
        retry: 1500,
      },
      'pub.jwt',
    );
    assert.equal(id, 'urn:uuid:abc');
    const [req] = server.requests;
    assert.equal(req?.method, 'POST');
    assert.equal(req?.url, HUB);
    assert.equal(req?.headers.authorization, 'Bearer pub.jwt');
    assert.equal(req?.headers['content-type'], 'application/x-www-form-urlencoded');
    const form = new URLSearchParams(req?.body);
    assert.deepEqual(form.getAll('topic'), ['https://example.com/books/1', '/alt']);
    assert.equal(form.get('data'), 'a=b & c\nline 2');
    assert.equal(form.get('private'), 'on');
    assert.equal(form.get('id'), 'my-id');
    assert.equal(form.get('type'), 'book.updated');
    assert.equal(form.get('retry'), '1500');
  });

  it('sends only what was given', async (t) => {
    const server = await serve(t, (conn) => conn.reply(200, {}, 'id-1'));
    assert.equal(await publish(`${server.origin}${HUB}`, { topics: '/t' }), 'id-1');
    const [req] = server.requests;
    assert.equal(req?.body, 'topic=%2Ft');
    assert.equal(req?.headers.authorization, undefined);
  });

  it('rejects with HTTP_ERROR carrying the status and body', async (t) => {
    const server = await serve(t, (conn) => conn.reply(403, {}, 'not allowed to publish'));
    await assert.rejects(
      publish(`${server.origin}${HUB}`, { topics: ['/t'], data: 'x' }, 'bad'),
      (err: unknown) => {
        assert.ok(err instanceof SseHubHttpError);
        assert.equal(err.code, 'HTTP_ERROR');
        assert.equal(err.httpStatus, 403);
        assert.equal(err.body, 'not allowed to publish');
        return true;
      },
    );
  });

  it('rejects bad input before sending, and network failures as CONNECTION_LOST', async (t) => {
    const server = await serve(t, (conn) => conn.reply(200, {}, 'x'));
    await assert.rejects(publish(server.origin, { topics: [] }), { code: 'MISSING_TOPIC' });
    await assert.rejects(publish(server.origin, { topics: '/t', retry: 1.5 }), {
      code: 'INVALID_RETRY',
    });
    assert.equal(server.requests.length, 0);
    const closed = await startMisbehavingServer(() => {});
    const deadUrl = closed.origin;
    await closed.close();
    await assert.rejects(publish(deadUrl, { topics: '/t' }), (err: unknown) =>
      isSseHubError(err, 'CONNECTION_LOST'),
    );
  });
});

describe('mercure: discoverHub', () => {
  it('finds hubs in several Link headers, resolving relative URLs after redirects', async (t) => {
    const server = await serve(t, (conn) => {
      if (conn.request.url === '/old') return conn.reply(301, { location: '/books/1' });
      return conn.reply(
        200,
        {
          link: [
            '<https://other.test/style.css>; rel=stylesheet',
            '<../hubs/main>; rel="mercure"; title="main, primary", </books/1>; rel="self"',
            '<https://backup.test/.well-known/mercure>; rel="Mercure alternate"',
          ],
        },
        '{"title":"book"}',
      );
    });
    const found = await discoverHub(`${server.origin}/old`);
    assert.equal(found.hubUrl, `${server.origin}/hubs/main`);
    assert.deepEqual(found.hubUrls, [
      `${server.origin}/hubs/main`,
      'https://backup.test/.well-known/mercure',
    ]);
    assert.equal(found.topic, `${server.origin}/books/1`);
    assert.equal(found.status, 200);
  });

  it('uses a custom fetch and method', async (t) => {
    const server = await serve(t, (conn) => conn.reply(200, { link: `<${HUB}>; rel=mercure` }));
    let calls = 0;
    const found = await discoverHub(`${server.origin}/r`, {
      method: 'HEAD',
      fetch: (url, init) => {
        calls++;
        return fetch(url, init);
      },
    });
    assert.equal(found.hubUrl, `${server.origin}${HUB}`);
    assert.equal(found.topic, undefined);
    assert.equal(calls, 1);
    assert.equal(server.requests[0]?.method, 'HEAD');
  });

  it('fails with DISCOVERY_FAILED without a mercure link, HTTP_ERROR on an error status', async (t) => {
    const server = await serve(t, (conn) =>
      conn.request.url === '/missing'
        ? conn.reply(404, {}, 'no such book')
        : conn.reply(200, { link: '</books/1>; rel=self' }),
    );
    await assert.rejects(discoverHub(`${server.origin}/plain`), { code: 'DISCOVERY_FAILED' });
    await assert.rejects(
      discoverHub(`${server.origin}/missing`),
      (err: unknown) => err instanceof SseHubHttpError && err.httpStatus === 404,
    );
  });
});
