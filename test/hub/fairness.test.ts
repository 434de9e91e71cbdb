// The hub never holds the event loop for a whole fan-out or a whole reconnect storm: a health
// check sent while that work runs is answered before it ends. Asserted by the order of events on
// real sockets, never by the clock.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import http, { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { createHub } from '../../src/hub/create-hub.js';
import type { HubOptions } from '../../src/hub/options.js';
import { SqliteTransport } from '../../src/transport/sqlite.js';
import type { Transport } from '../../src/transport/types.js';
import { mintTestToken, silentLogger, subscribeUrl, TEST_SECRET } from '../helpers/hub-server.js';
import { listen, openSse, type SseConnection } from '../helpers/sse-client.js';

const TOPIC = 'https://example.com/live';

/** A hub plus the server's cheapest route, `/healthz`, as `ssehub serve` has it. */
async function startWithHealth(options: HubOptions) {
  const hub = createHub({
    logger: silentLogger(),
    anonymous: true,
    jwt: { key: TEST_SECRET },
    // Hundreds of subscribers and a fast publisher, all from 127.0.0.1: one client for the
    // per-client limits.
    maxStreamsPerClient: 0,
    maxSubscribeRate: 0,
    maxPublishRate: 0,
    ...options,
  });
  const server = createServer((req, res) => {
    if (req.url === '/healthz') res.end('ok');
    else hub.handler(req, res);
  });
  const origin = await listen(server);
  return {
    hub,
    origin,
    url: `${origin}/.well-known/mercure`,
    async close() {
      await hub.shutdown();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Sends GET /healthz on a fresh connection; resolves when the answer arrives. */
function health(origin: string): Promise<number> {
  return new Promise((resolve, reject) => {
    http
      .get(`${origin}/healthz`, { agent: false }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      })
      .on('error', reject);
  });
}

/** Opens `n` streams, a few at a time so the listen backlog never overflows. */
async function openMany(n: number, url: string, headers?: Record<string, string>) {
  const out: SseConnection[] = [];
  for (let i = 0; i < n; i += 50) {
    const batch = Math.min(50, n - i);
    out.push(
      ...(await Promise.all(
        Array.from({ length: batch }, () => openSse(url, headers ? { headers } : {})),
      )),
    );
  }
  return out;
}

describe('fan-out shares the event loop', () => {
  let h: Awaited<ReturnType<typeof startWithHealth>>;
  let crowd: SseConnection[];
  let last: SseConnection;
  before(async () => {
    // A zero slice makes every fan-out yield after its first few hundred writes.
    h = await startWithHealth({ loopSliceMs: 0 });
    crowd = await openMany(600, subscribeUrl(h.url, [TOPIC]));
    // Pattern selectors are matched after exact ones: this subscriber is reached last.
    last = await openSse(subscribeUrl(h.url, ['https://example.com/{name}']));
  });
  after(() => h.close());

  it('answers a health check sent mid-dispatch before the next publish has reached everyone', async () => {
    const order: string[] = [];
    await h.hub.publish({ topics: [TOPIC], data: 'first' });
    // The first fan-out is under way (paused); a health check and a second publish follow it.
    const answered = health(h.origin).then((status) => {
      order.push('health');
      return status;
    });
    await h.hub.publish({ topics: [TOPIC], data: 'second' });
    const lastGotSecond = last.waitForEvents(2).then(() => order.push('second reached the last'));
    assert.equal(await answered, 200);
    await lastGotSecond;
    assert.deepEqual(order, ['health', 'second reached the last']);
    assert.ok(h.hub.stats.dispatchPauses > 0, 'the fan-out paused');
    // And nobody lost or reordered anything on the way.
    await Promise.all(crowd.map((c) => c.waitForEvents(2)));
    for (const c of [...crowd, last]) {
      assert.deepEqual(
        c.events.map((e) => e.data),
        ['first', 'second'],
      );
    }
  });
});

describe('a reconnect storm shares the event loop and the history reads', () => {
  const HISTORY = 3000;
  const RESUMERS = 50;
  let dir: string;
  let reads = 0;
  let h: Awaited<ReturnType<typeof startWithHealth>>;
  const ids: string[] = [];

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ssehub-storm-'));
    const store = new SqliteTransport({ path: join(dir, 'hub.db') });
    const data = 'x'.repeat(1000);
    for (let i = 0; i < HISTORY; i++) {
      const id = `h${i}`;
      ids.push(id);
      await store.publish({ id, topics: [TOPIC], data, private: false });
    }
    // Counts the store reads the hub makes; everything else goes straight to SQLite.
    const counting: Transport = {
      publish: (u) => store.publish(u),
      subscribe: (l) => store.subscribe(l),
      replay: (a, o) => store.replay(a, o),
      positionOf: (id) => store.positionOf(id),
      bounds: () => store.bounds(),
      read: (a, u, l) => {
        reads++;
        return store.read(a, u, l);
      },
      lastId: () => store.lastId(),
      close: () => store.close(),
    };
    h = await startWithHealth({ transport: counting, replayPageSize: 100 });
  });
  after(async () => {
    await h.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers a health check while 50 clients resume, and gives each exactly its history', async () => {
    const order: string[] = [];
    const url = subscribeUrl(h.url, [TOPIC]);
    // Half from the start, half from the middle of the history.
    const lastIds = Array.from({ length: RESUMERS }, (_, i) =>
      i % 2 === 0 ? 'earliest' : 'h1499',
    );
    const expected = lastIds.map((id) => (id === 'earliest' ? ids : ids.slice(1500)));
    // The resumers read in a process of their own: reading 50 replays is a client's work, and
    // in this process it would hold the loop the hub (and this health check) runs on.
    const crowd = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        fileURLToPath(new URL('./fixtures/resumers.ts', import.meta.url)),
        url,
        JSON.stringify(expected.map((e) => e.length)),
        ...lastIds,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const lines = createInterface({ input: crowd.stdout });
    interface Report {
      opened?: number;
      headers?: string[];
      ids?: string[][];
    }
    let received: string[][] | undefined;
    let opened: (report: Report) => void = () => {};
    const open = new Promise<Report>((resolve) => {
      opened = resolve;
    });
    const done = new Promise<void>((resolve, reject) => {
      lines.on('line', (line) => {
        const message = JSON.parse(line) as Report;
        if (message.opened !== undefined) opened(message);
        if (message.ids !== undefined) {
          received = message.ids;
          order.push('all resumed');
          resolve();
        }
      });
      crowd.once('exit', (code) => {
        if (received === undefined) reject(new Error(`the resumers exited with ${code}`));
      });
    });
    const { headers } = await open;
    // The storm is under way (every replay started with its stream): the check must get in.
    const answered = health(h.origin).then(() => order.push('health'));
    await Promise.all([answered, done]);
    assert.deepEqual(order, ['health', 'all resumed']);
    assert.ok(h.hub.stats.historyCacheBytes > 0, 'pages were cached');
    assert.deepEqual(headers, lastIds);
    assert.equal(received?.length, RESUMERS);
    for (const [i, got] of (received ?? []).entries()) {
      assert.deepEqual(got, expected[i], `resumer ${i}`);
    }
    // 30 pages of history: shared, each page is read about once, not once per client.
    const pages = HISTORY / 100;
    assert.ok(
      reads <= pages * 3,
      `${reads} store reads for ${pages} pages and ${RESUMERS} clients`,
    );
  });
});

describe('a publisher faster than fan-out', () => {
  let h: Awaited<ReturnType<typeof startWithHealth>>;
  let crowd: SseConnection[];
  before(async () => {
    h = await startWithHealth({ loopSliceMs: 0, maxDispatchBacklog: 2 });
    crowd = await openMany(500, subscribeUrl(h.url, [TOPIC]));
  });
  after(() => h.close());

  it('is refused with 503 and Retry-After once the backlog is full, and nothing accepted is lost', async () => {
    const accepted: string[] = [];
    // Back to back, in one turn: each fan-out pauses, so updates queue behind the first.
    const results = await Promise.allSettled(
      Array.from({ length: 6 }, (_, i) => h.hub.publish({ topics: [TOPIC], data: `n${i}` })),
    );
    const refused = results.filter((r) => r.status === 'rejected');
    assert.ok(refused.length > 0, 'some publishes were refused');
    for (const r of refused) {
      assert.equal((r as PromiseRejectedResult).reason.code, 'HUB_OVERLOADED');
    }
    results.forEach((r, i) => {
      if (r.status === 'fulfilled') accepted.push(`n${i}`);
    });
    // Over HTTP, with the backlog kept full meanwhile: 503 with Retry-After.
    const token = await mintTestToken({ publish: ['*'] });
    let answered = false;
    const http = fetch(h.url, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${token}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: `topic=${encodeURIComponent(TOPIC)}&data=late`,
    }).finally(() => {
      answered = true;
    });
    let n = 0;
    while (!answered) {
      const data = `refill${n++}`;
      await h.hub.publish({ topics: [TOPIC], data }).then(
        () => accepted.push(data),
        () => {},
      );
      await new Promise((resolve) => setImmediate(resolve));
    }
    const res = await http;
    assert.equal(res.status, 503);
    assert.equal(res.headers.get('retry-after'), '1');
    assert.match(await res.text(), /behind/);
    // Every accepted update reaches every subscriber, in order; none of the refused ones does.
    await Promise.all(crowd.map((c) => c.waitForEvents(accepted.length)));
    for (const c of crowd) {
      assert.deepEqual(
        c.events.map((e) => e.data),
        accepted,
      );
    }
  });
});
