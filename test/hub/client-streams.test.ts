import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { SignJWT } from 'jose';
import { resolveHubOptions } from '../../src/hub/options.js';
import {
  getText,
  type RunningHub,
  startHub,
  subscribeUrl,
  TEST_SECRET,
} from '../helpers/hub-server.js';
import { eventually, openSse, type SseConnection } from '../helpers/sse-client.js';
import { RawConnection } from '../server/raw-socket.js';

/** A draft 07 subscriber token with `sub` (and `iss`) for the per-client key. */
async function tokenFor(sub: string | undefined, iss = 'https://issuer.example'): Promise<string> {
  const jwt = new SignJWT({ mercure: { subscribe: ['*'] } })
    .setProtectedHeader({ alg: 'HS256' })
    .setIssuer(iss)
    .setExpirationTime('1h');
  if (sub !== undefined) jwt.setSubject(sub);
  return jwt.sign(new TextEncoder().encode(TEST_SECRET));
}

describe('per-client stream limit (maxStreamsPerClient)', () => {
  let h: RunningHub;
  const open: SseConnection[] = [];
  before(async () => {
    h = await startHub({ anonymous: true, maxStreamsPerClient: 2 });
  });
  after(async () => {
    for (const conn of open) conn.close();
    await h.close();
  });

  async function stream(topic: string, token?: string): Promise<SseConnection> {
    const headers: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
    const conn = await openSse(subscribeUrl(h.url, [topic]), { headers });
    open.push(conn);
    return conn;
  }

  it('answers 429 TOO_MANY_STREAMS with Retry-After past the limit, and frees the slot when a stream ends', async () => {
    const first = await stream('https://example.com/1');
    const second = await stream('https://example.com/2');
    assert.equal(first.status, 200);
    assert.equal(second.status, 200);
    const refused = await getText(subscribeUrl(h.url, ['https://example.com/3']));
    assert.equal(refused.status, 429);
    assert.equal(refused.headers.get('retry-after'), '5');
    assert.match(refused.headers.get('content-type') ?? '', /^text\/plain; charset=utf-8/);
    assert.match(refused.body, /too many event streams open.*at most 2 per client/);
    first.close();
    await eventually(async () => {
      const again = await stream('https://example.com/4');
      return again.status === 200;
    }, 'a stream once a slot is free');
    for (const conn of open) conn.close();
    open.length = 0;
  });

  it('does not count refused requests', async () => {
    for (let i = 0; i < 5; i++) {
      assert.equal((await getText(`${h.url}?matchExact=x`)).status, 400);
    }
    await eventually(async () => (await stream('https://example.com/a')).status === 200, 'a');
    assert.equal((await stream('https://example.com/b')).status, 200);
    for (const conn of open) conn.close();
    open.length = 0;
  });

  it('counts a token with sub by issuer and subject, wherever it connects from; without sub, by address', async () => {
    await eventually(() => h.hub.subscriberCount === 0, 'the earlier streams to end');
    const alice = await tokenFor('alice');
    const bob = await tokenFor('bob');
    const otherAlice = await tokenFor('alice', 'https://other-issuer.example');
    for (const token of [alice, alice, bob, bob, otherAlice, otherAlice]) {
      assert.equal((await stream('https://example.com/t', token)).status, 200);
    }
    const third = await getText(subscribeUrl(h.url, ['https://example.com/t']), {
      authorization: `Bearer ${alice}`,
    });
    assert.equal(third.status, 429);
    // The address still has both its slots: token streams with sub did not use them.
    const noSub = await tokenFor(undefined);
    assert.equal((await stream('https://example.com/t', noSub)).status, 200);
    assert.equal((await stream('https://example.com/t')).status, 200);
    const overAddress = await getText(subscribeUrl(h.url, ['https://example.com/t']));
    assert.equal(overAddress.status, 429);
  });

  it('gives back the slot of a stream pipelined behind another once the client leaves', async () => {
    for (const c of open) c.close();
    open.length = 0;
    await eventually(() => h.hub.subscriberCount === 0, 'the earlier streams to end');
    const path = new URL(subscribeUrl(h.url, ['https://example.com/p']));
    const request = `GET ${path.pathname}${path.search} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`;
    const conn = await RawConnection.open(Number(path.port));
    conn.write(request + request);
    await eventually(() => h.hub.subscriberCount === 2, 'both pipelined streams');
    conn.destroy();
    // The second response never had the socket: without watching its request's socket it stayed
    // registered, holding its slot (and, at the limit, locking the address out) for good.
    await eventually(() => h.hub.subscriberCount === 0, 'both streams to end');
    const again = await stream('https://example.com/q');
    const another = await stream('https://example.com/r');
    assert.deepEqual([again.status, another.status], [200, 200]);
    for (const c of open) c.close();
    open.length = 0;
  });

  it('defaults to 64 and accepts 0 (off); refuses a negative value', () => {
    assert.equal(resolveHubOptions({}).maxStreamsPerClient, 64);
    assert.equal(resolveHubOptions({ maxStreamsPerClient: 0 }).maxStreamsPerClient, 0);
    assert.throws(() => resolveHubOptions({ maxStreamsPerClient: -1 }), /maxStreamsPerClient/);
  });
});

describe('per-client stream limit off (maxStreamsPerClient: 0)', () => {
  let h: RunningHub;
  before(async () => {
    h = await startHub({ anonymous: true, maxStreamsPerClient: 0, maxSubscribeRate: 0 });
  });
  after(() => h.close());

  it('lets one address open more streams than the default limit', async () => {
    const conns = await Promise.all(
      Array.from({ length: 70 }, (_, i) =>
        openSse(subscribeUrl(h.url, [`https://example.com/${i}`])),
      ),
    );
    try {
      assert.deepEqual(new Set(conns.map((c) => c.status)), new Set([200]));
    } finally {
      for (const conn of conns) conn.close();
    }
  });
});
