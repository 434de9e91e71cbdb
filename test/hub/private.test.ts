import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type MintSelector, mintToken } from '../../src/hub/auth/token.js';
import {
  mintTestToken,
  publishOk,
  type RunningHub,
  startHub,
  subscribeUrl,
  TEST_SECRET,
} from '../helpers/hub-server.js';
import { openSse, type SseConnection } from '../helpers/sse-client.js';

describe('private updates', () => {
  let h: RunningHub;
  const open: SseConnection[] = [];
  before(async () => {
    h = await startHub({ anonymous: true });
  });
  after(async () => {
    for (const conn of open) conn.close();
    await h.close();
  });

  async function subscriber(subscribe?: string[]): Promise<SseConnection> {
    const headers: Record<string, string> = {};
    if (subscribe) headers.authorization = `Bearer ${await mintTestToken({ subscribe })}`;
    const conn = await openSse(subscribeUrl(h.url, ['*']), { headers });
    open.push(conn);
    return conn;
  }

  it('reach only subscribers whose token matches a topic (canonical or alternate)', async () => {
    const anonymous = await subscriber();
    const noRights = await subscriber([]);
    const canonical = await subscriber(['https://example.com/users/{id}']);
    const alternate = await subscriber(['https://example.com/alt/1']);
    const other = await subscriber(['https://example.com/orders/{id}']);
    const everything = await subscriber(['*']);

    const secret = await publishOk(h.url, {
      topic: ['https://example.com/users/42', 'https://example.com/alt/1'],
      data: 'secret',
      private: 'on',
    });
    const marker = await publishOk(h.url, { topic: 'https://example.com/public', data: 'marker' });
    const got = async (conn: SseConnection) => {
      await conn.waitFor(() => conn.events.some((e) => e.lastEventId === marker), 'marker');
      return conn.events.map((e) => e.lastEventId);
    };
    assert.deepEqual(await got(canonical), [secret, marker]);
    assert.deepEqual(await got(alternate), [secret, marker]);
    assert.deepEqual(await got(everything), [secret, marker]);
    assert.deepEqual(await got(anonymous), [marker]);
    assert.deepEqual(await got(noRights), [marker]);
    assert.deepEqual(await got(other), [marker]);
  });

  it('apply draft 08 tokens (authorization_details with URL patterns) the same way', async () => {
    const mint = (subscribe: MintSelector[]) =>
      mintToken({ draft: '08', subscribe }, { secret: TEST_SECRET });
    const pattern = await openSse(subscribeUrl(h.url, ['*']), {
      headers: {
        authorization: `Bearer ${await mint([{ match: 'https://example.com/d8/:id', matchType: 'URLPattern' }])}`,
      },
    });
    const exact = await openSse(subscribeUrl(h.url, ['*']), {
      headers: {
        authorization: `Bearer ${await mint([{ match: 'https://example.com/d8/{id}' }])}`,
      },
    });
    open.push(pattern, exact);
    const publisher = await mintToken(
      { draft: '08', publish: [{ match: 'https://example.com/d8/:id', matchType: 'URLPattern' }] },
      { secret: TEST_SECRET },
    );
    const secret = await publishOk(
      h.url,
      { topic: 'https://example.com/d8/1', data: 'd8', private: 'on' },
      publisher,
    );
    const marker = await publishOk(
      h.url,
      { topic: 'https://example.com/d8/2', data: 'm' },
      publisher,
    );
    const got = async (conn: SseConnection) => {
      await conn.waitFor(() => conn.events.some((e) => e.lastEventId === marker), 'marker');
      return conn.events.map((e) => e.lastEventId);
    };
    assert.deepEqual(await got(pattern), [secret, marker]);
    // An Exact matcher is compared byte for byte: the braces are not a template.
    assert.deepEqual(await got(exact), [marker]);
  });
});
