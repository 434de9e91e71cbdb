// The per-client limits through the standalone server: each refusal is a 429 with Retry-After,
// counted in /metrics (ssehub_rate_limited_total{limit}) and logged as one warning per interval.
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { startServer } from '../../src/server/index.js';
import type { RunningServer } from '../../src/server/options.js';
import { mintTestToken, postForm, TEST_SECRET } from '../helpers/hub-server.js';
import { eventually, openSse, type SseConnection } from '../helpers/sse-client.js';

function memoryLogger() {
  const records: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString('utf8').split('\n'))
        if (line) records.push(JSON.parse(line));
      done();
    },
  });
  return { logger: pino({ level: 'debug' }, stream), records };
}

async function rateLimited(base: string): Promise<Record<string, number>> {
  const text = await (await fetch(`${base}/metrics`)).text();
  const out: Record<string, number> = {};
  for (const m of text.matchAll(/^ssehub_rate_limited_total\{limit="(\w+)"\} (\d+)$/gm)) {
    out[m[1] as string] = Number(m[2]);
  }
  return out;
}

describe('per-client limits in the server: 429, Retry-After, metric, log', () => {
  const log = memoryLogger();
  let server: RunningServer;
  let hub: string;
  const open: SseConnection[] = [];

  before(async () => {
    server = await startServer({
      port: 0,
      host: '127.0.0.1',
      demo: false,
      metrics: true,
      logger: log.logger,
      hub: {
        jwt: { key: TEST_SECRET },
        anonymous: true,
        maxStreamsPerClient: 2,
        maxSubscribeRate: 1,
        subscribeBurst: 4,
        maxPublishRate: 1,
        publishBurst: 3,
      },
    });
    hub = `${server.url}/.well-known/mercure`;
  });
  after(async () => {
    for (const conn of open) conn.close();
    await server.close();
  });

  const warnings = (limit: string) =>
    log.records.filter((r) => r.event === 'rate_limited' && r.limit === limit);

  it('refuses a stream past maxStreamsPerClient, counts and logs it', async () => {
    for (const topic of ['a', 'b']) {
      const conn = await openSse(`${hub}?topic=${topic}`);
      open.push(conn);
      assert.equal(conn.status, 200);
    }
    const res = await fetch(`${hub}?topic=c`);
    assert.equal(res.status, 429);
    assert.equal(res.headers.get('retry-after'), '5');
    assert.match(await res.text(), /too many event streams/);
    assert.deepEqual(await rateLimited(server.url), { streams: 1 });
    const [warning] = warnings('streams');
    assert.ok(warning, 'a rate_limited warning');
    assert.equal(warning.level, 40);
    assert.equal(warning.count, 1);
    assert.equal(warning.address, '127.0.0.1');
    assert.equal(warning.maxStreamsPerClient, 2);
    for (const conn of open) conn.close();
    open.length = 0;
  });

  it('refuses subscribe attempts past the burst with RATE_LIMITED; one warning a second with the count', async () => {
    // Three attempts so far (the stream test); one more is the burst of 4, then refusals.
    assert.equal((await fetch(`${hub}?topic=`)).status, 400);
    const statuses: number[] = [];
    let retryAfter: string | null = null;
    for (let i = 0; i < 5; i++) {
      const res = await fetch(`${hub}?topic=x`);
      statuses.push(res.status);
      if (res.status === 429) {
        retryAfter = res.headers.get('retry-after');
        assert.match(await res.text(), /too many requests.*maxSubscribeRate/);
      } else await res.body?.cancel();
    }
    assert.ok(statuses.filter((s) => s === 429).length >= 4, `refused: ${statuses}`);
    assert.equal(retryAfter, '1');
    const counted = (await rateLimited(server.url)).subscribe ?? 0;
    assert.ok(counted >= 4, `counted ${counted}`);
    // The first refusal is logged at once, the rest together once the interval ends.
    await eventually(
      () => warnings('subscribe').reduce((n, r) => n + (r.count as number), 0) === counted,
      'the warnings to count every refusal',
      5_000,
    );
    assert.ok(warnings('subscribe').length <= 2, 'not a line per refusal');
    // The 429s' request lines are at debug: the warning stands for them.
    const lines = log.records.filter((r) => r.msg === 'request' && r.status === 429);
    assert.ok(lines.length > 0);
    assert.ok(lines.every((r) => r.level === 20));
  });

  it('refuses publishes past maxPublishRate per publisher', async () => {
    const token = await mintTestToken({ publish: ['*'] });
    const publish = () =>
      postForm(
        hub,
        { topic: 'https://example.com/p', data: 'x' },
        {
          authorization: `Bearer ${token}`,
        },
      );
    const results = [];
    for (let i = 0; i < 4; i++) results.push(await publish());
    assert.deepEqual(
      results.map((r) => r.status),
      [200, 200, 200, 429],
    );
    const refused = results[3];
    assert.ok(refused);
    assert.equal(refused.headers.get('retry-after'), '1');
    assert.match(refused.body, /maxPublishRate/);
    assert.equal((await rateLimited(server.url)).publish, 1);
    assert.equal(warnings('publish')[0]?.maxPublishRate, 1);
    // hub-side publish lines, one per accepted update; their request lines are at debug.
    const published = log.records.filter((r) => r.event === 'publish');
    assert.equal(published.length, 3);
    assert.ok(
      log.records
        .filter((r) => r.msg === 'request' && r.method === 'POST' && r.status === 200)
        .every((r) => r.level === 20),
    );
  });
});
