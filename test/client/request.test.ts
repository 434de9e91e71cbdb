import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EventSource, type FetchLike, subscribe } from '../../src/client/index.js';
import { frame } from '../helpers/misbehaving-server.js';
import { collect, nextEvent, serve } from './support.js';

describe('client: what the request carries', () => {
  it('sends custom headers, method and body on every connection', async (t) => {
    const server = await serve(t, async (conn) => {
      if (conn.index > 1) return conn.reply(204);
      await conn.open();
      await conn.write(frame(String(conn.index + 1), 'x'));
      await conn.end();
    });
    let token = 0;
    await collect(
      subscribe(server.origin, {
        method: 'post',
        body: JSON.stringify({ query: 'q' }),
        headers: () => ({ 'x-token': `t${++token}`, 'content-type': 'application/json' }),
        initialDelayMs: 1,
      }),
    );
    assert.equal(server.requests.length, 3);
    server.requests.forEach((r, i) => {
      assert.equal(r.method, 'POST');
      assert.equal(r.body, '{"query":"q"}');
      assert.equal(r.headers['content-type'], 'application/json');
      assert.equal(r.headers['x-token'], `t${i + 1}`, 'headers are evaluated per connection');
      assert.equal(r.headers.accept, 'text/event-stream');
    });
    assert.deepEqual(
      server.requests.map((r) => r.headers['last-event-id']),
      [undefined, '1', '2'],
    );
  });

  it('sends static headers with the EventSource class', async (t) => {
    const server = await serve(t, async (conn) => {
      await conn.open();
      await conn.write(frame('1', 'x'));
    });
    const es = new EventSource(server.origin, { headers: { authorization: 'Bearer abc' } });
    t.after(() => es.close());
    await nextEvent(es, 'message');
    assert.equal(server.requests[0]?.headers.authorization, 'Bearer abc');
  });

  it("uses a custom fetch and asks it for credentials: 'include' with withCredentials", async (t) => {
    const server = await serve(t, (conn) => conn.reply(204));
    const seen: RequestInit[] = [];
    const spy: FetchLike = (url, init) => {
      seen.push(init);
      return fetch(url, init);
    };
    await collect(subscribe(server.origin, { fetch: spy, withCredentials: true }));
    await collect(subscribe(server.origin, { fetch: spy }));
    assert.deepEqual(
      seen.map((i) => [i.credentials, i.cache, i.method]),
      [
        ['include', 'no-store', 'GET'],
        ['same-origin', 'no-store', 'GET'],
      ],
    );
    assert.equal(server.requests.length, 2);
  });
});
