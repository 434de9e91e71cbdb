// Subscribing with the parameters in a request body (Mercure, Subscription: a hub MAY accept a
// safe method such as QUERY, RFC 10008, with an application/x-www-form-urlencoded body; query and
// body form one union; last_event_id from the query wins over the body's, the header over both).
// Real HTTP/1.1 requests: node:http's client, and a raw socket where the body must stay unsent.
import assert from 'node:assert/strict';
import http, { type IncomingHttpHeaders } from 'node:http';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { mintTestToken, publishOk, type RunningHub, startHub } from '../helpers/hub-server.js';
import { openSse, type SseConnection } from '../helpers/sse-client.js';

const FORM = { 'content-type': 'application/x-www-form-urlencoded' };
const A = 'https://example.com/q/a';
const B = 'https://example.com/q/b';

interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/** A request whose answer ends (an error); resolves with status, headers and body. */
function request(
  url: string,
  method: string,
  body: string | undefined,
  headers: Record<string, string>,
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        text += chunk;
      });
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }),
      );
    });
    req.on('error', reject);
    req.end(body);
  });
}

const form = (pairs: [string, string][]) => new URLSearchParams(pairs).toString();

describe('QUERY subscribe', () => {
  let h: RunningHub;
  const open: SseConnection[] = [];
  before(async () => {
    h = await startHub({
      anonymous: true,
      maxTopicsPerRequest: 5,
      maxBodyBytes: 2048,
      corsOrigins: ['https://app.example.com'],
    });
  });
  after(async () => {
    for (const conn of open) conn.close();
    await h.close();
  });

  async function query(url: string, body?: string, headers: Record<string, string> = FORM) {
    const conn = await openSse(url, { method: 'QUERY', body, headers });
    open.push(conn);
    return conn;
  }

  it("reaches the hub through this Node's HTTP parser (llhttp knows QUERY)", () => {
    // Were it unknown, the parser would answer 400 before the hub saw the request.
    assert.ok(http.METHODS.includes('QUERY'), `Node ${process.version} lacks QUERY`);
  });

  it('subscribes with the matchers in the body', async () => {
    const conn = await query(
      h.url,
      form([
        ['match', A],
        ['match_urlpattern', 'https://example.com/q/:x/deep'],
      ]),
    );
    assert.equal(conn.status, 200);
    assert.equal(conn.headers['content-type'], 'text/event-stream');
    await publishOk(h.url, { topic: A, data: 'exact' });
    await publishOk(h.url, { topic: 'https://example.com/q/1/deep', data: 'pattern' });
    await publishOk(h.url, { topic: B, data: 'other' });
    const events = await conn.waitForEvents(2);
    assert.deepEqual(
      events.map((e) => e.data),
      ['exact', 'pattern'],
    );
  });

  it('takes the union of query and body', async () => {
    const conn = await query(`${h.url}?match=${encodeURIComponent(A)}`, form([['match', B]]));
    assert.equal(conn.status, 200);
    await publishOk(h.url, { topic: A, data: 'from the query' });
    await publishOk(h.url, { topic: B, data: 'from the body' });
    const events = await conn.waitForEvents(2);
    assert.deepEqual(
      events.map((e) => e.data),
      ['from the query', 'from the body'],
    );
  });

  it('a QUERY without a body is a plain subscribe', async () => {
    const conn = await query(`${h.url}?match=${encodeURIComponent(A)}`, undefined, {});
    assert.equal(conn.status, 200);
  });

  describe('last_event_id', () => {
    const T = 'https://example.com/q/cursor';
    const ids: string[] = [];
    before(async () => {
      for (const n of [1, 2, 3]) ids.push(await publishOk(h.url, { topic: T, data: `u${n}` }));
    });

    it("uses the query's when both carry one", async () => {
      const conn = await query(
        `${h.url}?last_event_id=${encodeURIComponent(ids[1]!)}`,
        form([
          ['match', T],
          ['last_event_id', ids[0]!],
        ]),
      );
      assert.equal(conn.headers['mercure-last-event-id'], ids[1]);
      const [event] = await conn.waitForEvents(1);
      assert.equal(event!.data, 'u3');
    });

    it("uses the body's when only the body carries one", async () => {
      const conn = await query(
        h.url,
        form([
          ['match', T],
          ['last_event_id', ids[0]!],
        ]),
      );
      assert.equal(conn.headers['mercure-last-event-id'], ids[0]);
      const events = await conn.waitForEvents(2);
      assert.deepEqual(
        events.map((e) => e.data),
        ['u2', 'u3'],
      );
    });

    it('lets the Last-Event-ID header win over both', async () => {
      const conn = await query(
        `${h.url}?last_event_id=${encodeURIComponent(ids[0]!)}`,
        form([
          ['match', T],
          ['last_event_id', ids[0]!],
        ]),
        { ...FORM, 'last-event-id': ids[1]! },
      );
      assert.equal(conn.headers['mercure-last-event-id'], ids[1]);
    });
  });

  it('applies the same rules to body names and values (400)', async () => {
    for (const body of [
      'matchExact=x', // reserved match prefix
      'match=a%E2%80%8Bb', // a format character
      'match=%FF', // not UTF-8
      'match_urlpattern=https://example.com/(%3F%3D.*)x', // a lookahead
      'last_event_id=a%00b',
    ]) {
      const res = await request(h.url, 'QUERY', body, FORM);
      assert.equal(res.status, 400, `${body}: ${res.body}`);
    }
  });

  it('counts the selectors of query and body together (400 TOO_MANY_TOPICS)', async () => {
    const url = `${h.url}?match=q1&match=q2&match=q3`;
    const res = await request(url, 'QUERY', 'match=b1&match=b2&match=b3', FORM);
    assert.equal(res.status, 400);
    assert.match(res.body, /Too many topics/);
  });

  it('refuses another content type with 415', async () => {
    const res = await request(h.url, 'QUERY', `match=${A}`, { 'content-type': 'text/plain' });
    assert.equal(res.status, 415);
    const untyped = await request(h.url, 'QUERY', `match=${A}`, {});
    assert.equal(untyped.status, 415);
  });

  it('refuses a body over maxBodyBytes with 413 and closes the connection', async () => {
    const res = await request(h.url, 'QUERY', `match=${'x'.repeat(3000)}`, FORM);
    assert.equal(res.status, 413);
    assert.equal(res.headers.connection, 'close');
  });

  it('allows QUERY in the CORS preflight', async () => {
    const res = await request(h.url, 'OPTIONS', undefined, {
      origin: 'https://app.example.com',
      'access-control-request-method': 'QUERY',
    });
    assert.equal(res.status, 204);
    assert.match(String(res.headers['access-control-allow-methods']), /\bQUERY\b/);
    assert.match(String(res.headers.allow), /\bQUERY\b/);
  });
});

describe('QUERY subscribe without anonymous access', () => {
  let h: RunningHub;
  before(async () => {
    h = await startHub();
  });
  after(() => h.close());

  it('answers 401 before reading the body, and closes the connection', async () => {
    const { port } = new URL(h.url);
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = net.connect(Number(port), '127.0.0.1', () => {
        // A large body announced but never sent: only a hub that waits for it would hang.
        socket.write(
          'QUERY /.well-known/mercure HTTP/1.1\r\nHost: x\r\n' +
            'Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 100000\r\n\r\n',
        );
      });
      let text = '';
      socket.setEncoding('utf8');
      socket.on('data', (chunk: string) => {
        text += chunk;
      });
      socket.on('end', () => resolve(text));
      socket.on('error', reject);
    });
    assert.match(answer, /^HTTP\/1\.1 401 /);
    assert.match(answer, /\r\nConnection: close\r\n/i);
  });

  it('subscribes with a token in the Authorization header', async () => {
    const token = await mintTestToken({ subscribe: ['*'] });
    const conn = await openSse(h.url, {
      method: 'QUERY',
      body: form([['match', A]]),
      headers: { ...FORM, authorization: `Bearer ${token}` },
    });
    try {
      assert.equal(conn.status, 200);
    } finally {
      conn.close();
    }
  });
});
