// Input strictness over real HTTP: invalid UTF-8 anywhere in a publish form or a query is a 400
// (nothing stored), valid multi-byte UTF-8 round-trips exactly, and an unauthenticated publish is
// answered before its body is read.
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { errorTable } from '../../src/errors.js';
import {
  getText,
  mintTestToken,
  type RunningHub,
  startHub,
  subscribeUrl,
} from '../helpers/hub-server.js';
import { openSse, type SseConnection } from '../helpers/sse-client.js';

const INVALID = errorTable.INVALID_ENCODING.message;
const TOPIC = 'https://example.com/enc';

describe('invalid UTF-8 in requests', () => {
  let h: RunningHub;
  let auth: Record<string, string>;
  const open: SseConnection[] = [];
  before(async () => {
    h = await startHub({ anonymous: true, subscriptions: true });
    auth = { authorization: `Bearer ${await mintTestToken({ publish: ['*'], subscribe: ['*'] })}` };
  });
  after(async () => {
    for (const conn of open) conn.close();
    await h.close();
  });

  async function subscribe(url: string): Promise<SseConnection> {
    const conn = await openSse(url);
    open.push(conn);
    return conn;
  }

  /** POSTs `body` (text as written, so escapes stay as given; or raw bytes). */
  async function post(body: string | Uint8Array, url = h.url) {
    const res = await fetch(url, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/x-www-form-urlencoded' },
      // A fresh Uint8Array owns a plain ArrayBuffer, which is what fetch's BodyInit types want.
      body: typeof body === 'string' ? body : new Uint8Array(body),
    });
    return { status: res.status, body: await res.text() };
  }

  const bodies: { name: string; body: string | Uint8Array }[] = [
    { name: 'a CESU-8 surrogate in id', body: `topic=${TOPIC}&id=%ED%A0%80&data=x` },
    { name: 'an overlong in topic', body: `topic=${TOPIC}%C0%AF&data=x` },
    { name: 'a truncated sequence in data', body: `topic=${TOPIC}&data=%E2%82` },
    { name: 'an invalid byte in type', body: `topic=${TOPIC}&type=%FF&data=x` },
    { name: 'an invalid field name', body: `topic=${TOPIC}&%FF=1&data=x` },
    {
      name: 'a raw 0xFF byte in data',
      body: Buffer.concat([Buffer.from(`topic=${TOPIC}&data=a`), Buffer.from([0xff])]),
    },
  ];

  it('answers 400 to each invalid publish and stores none of them', async () => {
    const live = await subscribe(subscribeUrl(h.url, [TOPIC]));
    for (const { name, body } of bodies) {
      const res = await post(body);
      assert.equal(res.status, 400, name);
      assert.equal(res.body, INVALID, name);
    }
    const queryRes = await post(`topic=${TOPIC}&data=x`, `${h.url}?x=%C0%AF`);
    assert.equal(queryRes.status, 400, 'invalid UTF-8 in the publish query');
    assert.equal(queryRes.body, INVALID);

    const marker = await post(`topic=${TOPIC}&id=marker&data=after`);
    assert.equal(marker.status, 200, marker.body);
    await live.waitFor(() => live.events.some((e) => e.lastEventId === 'marker'), 'the marker');
    assert.deepEqual(
      live.events.map((e) => e.lastEventId),
      ['marker'],
    );
    const replay = await subscribe(subscribeUrl(h.url, [TOPIC], { lastEventID: 'earliest' }));
    await replay.waitFor(() => replay.events.length >= 1, 'the replayed marker');
    assert.deepEqual(
      replay.events.map((e) => [e.lastEventId, e.data]),
      [['marker', 'after']],
    );
  });

  const queries: { name: string; query: string }[] = [
    { name: 'an invalid byte in topic', query: 'topic=%FF' },
    { name: 'a CESU-8 surrogate in topic', query: 'topic=%ED%A0%80' },
    { name: 'an overlong in lastEventID', query: `topic=${TOPIC}&lastEventID=%C0%AF` },
    { name: 'a truncated sequence in match', query: 'match=%E2%82' },
    { name: 'an invalid parameter name', query: `topic=${TOPIC}&%FF=1` },
  ];
  for (const { name, query } of queries) {
    it(`answers 400 to a subscribe with ${name}`, async () => {
      const res = await getText(`${h.url}?${query}`);
      assert.equal(res.status, 400);
      assert.equal(res.body, INVALID);
    });
  }

  it('answers 400 to the subscriptions API with invalid UTF-8 in the query or a path segment', async () => {
    const query = await getText(`${h.url}/subscriptions?x=%FF`, auth);
    assert.equal(query.status, 400);
    assert.equal(query.body, INVALID);
    const segment = await getText(`${h.url}/subscriptions/%ED%A0%80`, auth);
    assert.equal(segment.status, 400);
    assert.equal(segment.body, INVALID);
    // A malformed escape in a path names no topic, as before.
    assert.equal((await getText(`${h.url}/subscriptions/%ZZ`, auth)).status, 404);
  });

  it('round-trips valid multi-byte UTF-8 exactly (escaped and raw)', async () => {
    const topic = 'https://example.com/€/😀';
    const conn = await subscribe(`${h.url}?topic=${encodeURIComponent(topic)}`);
    assert.equal(conn.status, 200);
    const escaped = await post(
      `topic=${encodeURIComponent(topic)}&id=${encodeURIComponent('id-€😀')}` +
        `&type=${encodeURIComponent('ünïcode')}&data=${encodeURIComponent('€ 😀 ü\u{10FFFF}')}`,
    );
    assert.equal(escaped.status, 200, escaped.body);
    assert.equal(escaped.body, 'id-€😀');
    const raw = await post(Buffer.from(`topic=${topic}&id=raw-€&data=😀+x`, 'utf8'));
    assert.equal(raw.status, 200, raw.body);
    await conn.waitFor(() => conn.events.length >= 2, 'both updates');
    assert.deepEqual(
      conn.events.map((e) => [e.lastEventId, e.type, e.data]),
      [
        ['id-€😀', 'ünïcode', '€ 😀 ü\u{10FFFF}'],
        ['raw-€', 'message', '😀 x'],
      ],
    );
  });

  it("counts a topic's length as URL patterns match it: percent-encoded", async () => {
    // 300 CJK characters are 300 characters, but 2700 once percent-encoded: over the 2048 limit.
    const long = `${TOPIC}/${'中'.repeat(300)}`;
    const refused = await post(`topic=${encodeURIComponent(long)}&data=x`);
    assert.equal(refused.status, 413);
    assert.match(refused.body, /percent-encoded/);
    // 200 of them (1800) fit, and the update reaches a URL-pattern subscriber.
    const fits = `${TOPIC}/${'中'.repeat(200)}`;
    const conn = await subscribe(
      `${h.url}?match_urlpattern=${encodeURIComponent(`${TOPIC}/:name`)}`,
    );
    const ok = await post(`topic=${encodeURIComponent(fits)}&data=fits`);
    assert.equal(ok.status, 200, ok.body);
    await conn.waitFor(() => conn.events.length >= 1, 'the update');
    assert.deepEqual(
      conn.events.map((e) => e.data),
      ['fits'],
    );
  });

  it('keeps a malformed percent escape literally', async () => {
    const conn = await subscribe(subscribeUrl(h.url, [`${TOPIC}/literal`]));
    const res = await post(`topic=${encodeURIComponent(`${TOPIC}/literal`)}&id=%ZZ&data=100%`);
    assert.equal(res.status, 200, res.body);
    assert.equal(res.body, '%ZZ');
    await conn.waitFor(() => conn.events.length >= 1, 'the update');
    assert.deepEqual(
      conn.events.map((e) => [e.lastEventId, e.data]),
      [['%ZZ', '100%']],
    );
  });
});

describe('publish without a token', () => {
  let h: RunningHub;
  before(async () => {
    h = await startHub({ maxBodyBytes: 1024 });
  });
  after(() => h.close());

  it('is answered 401 without waiting for a body that never ends, and the connection closes', async () => {
    const { port } = new URL(h.url);
    const socket = connect(Number(port), '127.0.0.1');
    try {
      let answer = '';
      socket.setEncoding('latin1');
      socket.on('data', (chunk: string) => {
        answer += chunk;
      });
      // 'end' is the hub closing its side: it answered and will not read (and discard) the rest.
      const closedByHub = new Promise<void>((resolve, reject) => {
        socket.on('end', resolve);
        socket.on('error', reject);
      });
      // Chunked, never finished: a hub that read the body before the token would never answer.
      socket.write(
        'POST /.well-known/mercure HTTP/1.1\r\nHost: x\r\n' +
          'Content-Type: application/x-www-form-urlencoded\r\nTransfer-Encoding: chunked\r\n\r\n' +
          `100000\r\ntopic=t&data=${'x'.repeat(4096)}`,
      );
      await closedByHub;
      assert.match(answer, /^HTTP\/1\.1 401 /);
      assert.match(answer, /\r\nconnection: close\r\n/i);
      assert.ok(answer.endsWith(`\r\n\r\n${errorTable.UNAUTHORIZED.message}`), answer);
    } finally {
      socket.destroy();
    }
  });
});
