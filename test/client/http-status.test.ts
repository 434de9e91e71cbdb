import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  isSseHubError,
  type ReconnectInfo,
  SseHubHttpError,
  subscribe,
} from '../../src/client/index.js';
import { collect, recordingScheduler, serve } from './support.js';

describe('client: answers that end the stream', () => {
  for (const status of [400, 401, 403, 404, 410]) {
    it(`does not reconnect on ${status}; the error carries status and body`, async (t) => {
      const server = await serve(t, (conn) =>
        conn.reply(status, { 'content-type': 'text/plain' }, `no (${status})`),
      );
      const reconnects: ReconnectInfo[] = [];
      const sub = subscribe(server.origin, {
        initialDelayMs: 1,
        onReconnecting: (i) => reconnects.push(i),
      });
      await assert.rejects(collect(sub), (err: unknown) => {
        assert.ok(err instanceof SseHubHttpError);
        assert.equal(err.code, 'HTTP_ERROR');
        assert.equal(err.httpStatus, status);
        assert.equal(err.body, `no (${status})`);
        return true;
      });
      assert.equal(sub.readyState, 2);
      assert.equal(server.requests.length, 1);
      assert.deepEqual(reconnects, []);
    });
  }

  it('retries 408 like a 5xx', async (t) => {
    const server = await serve(t, (conn) => conn.reply(conn.index === 0 ? 408 : 204));
    await collect(subscribe(server.origin, { initialDelayMs: 1 }));
    assert.equal(server.requests.length, 2);
  });

  it('ends cleanly on 204 without reconnecting', async (t) => {
    const server = await serve(t, (conn) => conn.reply(204));
    const sub = subscribe(server.origin, { initialDelayMs: 1 });
    assert.deepEqual(await collect(sub), []);
    assert.equal(sub.readyState, 2);
    assert.equal(server.requests.length, 1);
  });

  it('fails on a content type other than text/event-stream', async (t) => {
    const server = await serve(t, (conn) =>
      conn.reply(200, { 'content-type': 'application/json' }, '{}'),
    );
    await assert.rejects(collect(subscribe(server.origin)), (err: unknown) =>
      isSseHubError(err, 'INVALID_CONTENT_TYPE'),
    );
    assert.equal(server.requests.length, 1);
  });

  it('fails on a line longer than maxEventSize', async (t) => {
    const server = await serve(t, async (conn) => {
      await conn.open();
      await conn.write(`data: ${'x'.repeat(500)}\n\n`);
    });
    await assert.rejects(collect(subscribe(server.origin, { maxEventSize: 100 })), (err: unknown) =>
      isSseHubError(err, 'LINE_TOO_LONG'),
    );
  });
});

describe('client: Retry-After and the retryDelay hook', () => {
  it('honours Retry-After seconds and dates on 429 and 503, not on 500', async (t) => {
    const retryAt = new Date(Date.now() + 90_000).toUTCString();
    const server = await serve(t, async (conn) => {
      switch (conn.index) {
        case 0:
          return conn.reply(429, { 'retry-after': '120' }, 'slow down');
        case 1:
          return conn.reply(503, { 'retry-after': retryAt });
        case 2:
          return conn.reply(429, { 'retry-after': '999999' });
        case 3:
          return conn.reply(500, { 'retry-after': '120' });
        default:
          return conn.reply(204);
      }
    });
    const delays: number[] = [];
    await collect(
      subscribe(server.origin, {
        initialDelayMs: 100,
        random: () => 0.999_999,
        schedule: recordingScheduler(delays),
      }),
    );
    assert.equal(delays.length, 4);
    assert.equal(delays[0], 120_000);
    assert.ok((delays[1] as number) > 0 && (delays[1] as number) <= 90_000, `date: ${delays[1]}`);
    assert.equal(delays[2], 600_000, 'capped by maxRetryAfterMs');
    assert.equal(delays[3], 800, 'a 500 uses the back-off (attempt 3, base 100)');
  });

  it('lets retryDelay see the facts, change the delay, and stop', async (t) => {
    const server = await serve(t, (conn) =>
      conn.reply(conn.index === 0 ? 429 : 500, { 'retry-after': '3' }, 'x'),
    );
    const seen: { attempt: number; status?: number; retryAfterMs?: number; def: number }[] = [];
    const delays: number[] = [];
    const sub = subscribe(server.origin, {
      initialDelayMs: 10,
      random: () => 0,
      schedule: recordingScheduler(delays),
      retryDelay: (attempt, info) => {
        seen.push({
          attempt,
          status: info.status,
          retryAfterMs: info.retryAfterMs,
          def: info.defaultDelayMs,
        });
        return attempt < 2 ? 1 : null;
      },
    });
    await assert.rejects(collect(sub), (err: unknown) => err instanceof SseHubHttpError);
    assert.deepEqual(seen, [
      { attempt: 0, status: 429, retryAfterMs: 3000, def: 3000 },
      // The default policy never goes below MIN_RECONNECT_DELAY_MS; the hook's own 1 is kept.
      { attempt: 1, status: 500, retryAfterMs: undefined, def: 100 },
      { attempt: 2, status: 500, retryAfterMs: undefined, def: 100 },
    ]);
    assert.deepEqual(delays, [1, 1]);
    assert.equal(server.requests.length, 3);
  });

  it('ends with INVALID_OPTION when retryDelay returns nonsense', async (t) => {
    const server = await serve(t, (conn) => conn.reply(500));
    const sub = subscribe(server.origin, { retryDelay: () => -5 });
    await assert.rejects(collect(sub), (err: unknown) => isSseHubError(err, 'INVALID_OPTION'));
  });
});
