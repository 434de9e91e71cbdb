import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { mintToken } from '../../src/hub/auth/token.js';
import { DEMO_TOPIC } from '../../src/server/demo/index.js';
import { startServer } from '../../src/server/index.js';
import { safeRequestPath } from '../../src/server/logging.js';
import type { RunningServer } from '../../src/server/options.js';
import { eventually, openSse } from '../helpers/sse-client.js';

const SECRET = 'server-test-secret-0123456789abcdef';

/** A pino logger that keeps every record, so tests can read the log lines. */
function memoryLogger(level: 'info' | 'debug' = 'info') {
  const records: Record<string, unknown>[] = [];
  const raw: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      const text = chunk.toString('utf8');
      raw.push(text);
      for (const line of text.split('\n')) if (line) records.push(JSON.parse(line));
      done();
    },
  });
  return { logger: pino({ level }, stream), records, raw };
}

async function publishForm(base: string, token: string, form: Record<string, string>) {
  return fetch(`${base}/.well-known/mercure`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${token}`,
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: new URLSearchParams(form),
  });
}

describe('startServer', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'ssehub-server-'));
  const bundle = join(tmp, 'ssehub-client.js');
  const log = memoryLogger();
  let server: RunningServer;

  before(async () => {
    server = await startServer({
      port: 0,
      host: '127.0.0.1',
      logger: log.logger,
      metrics: true,
      browserBundlePath: bundle,
      hub: { jwt: { key: SECRET }, anonymous: true, allowQueryToken: true },
    });
  });
  after(async () => {
    await server.close();
    rmSync(tmp, { recursive: true, force: true });
  });

  it('announces its URL and port', () => {
    assert.equal(server.url, `http://127.0.0.1:${server.port}`);
    assert.ok(server.port > 0);
    assert.ok(log.records.some((r) => r.msg === `ssehub listening on ${server.url}`));
  });

  it('answers /healthz and /readyz with 200, unknown paths with 404', async () => {
    const health = await fetch(`${server.url}/healthz`);
    assert.equal(health.status, 200);
    assert.deepEqual(await health.json(), { status: 'ok' });
    const ready = await fetch(`${server.url}/readyz`);
    assert.equal(ready.status, 200);
    assert.deepEqual(await ready.json(), { status: 'ready' });
    assert.equal(ready.headers.get('cache-control'), 'no-store');
    const missing = await fetch(`${server.url}/nope`);
    assert.equal(missing.status, 404);
    await missing.text();
  });

  it('mounts the hub: publish with a token, receive on a stream', async () => {
    const conn = await openSse(
      `${server.url}/.well-known/mercure?topic=${encodeURIComponent('https://example.com/a')}`,
    );
    try {
      assert.equal(conn.status, 200);
      const token = await mintToken({ publish: ['*'] }, { secret: SECRET });
      const res = await publishForm(server.url, token, {
        topic: 'https://example.com/a',
        data: 'hello hub',
      });
      assert.equal(res.status, 200);
      const id = await res.text();
      assert.match(id, /^urn:uuid:/);
      await conn.waitFor(() => conn.events.some((e) => e.lastEventId === id), 'the update');
      assert.equal(conn.events.find((e) => e.lastEventId === id)?.data, 'hello hub');
    } finally {
      conn.close();
    }
  });

  it('logs one line per request without tokens, cookies or authorization headers', async () => {
    const token = await mintToken({ subscribe: ['*'] }, { secret: SECRET });
    const res = await fetch(`${server.url}/healthz?authorization=${token}&x=1`, {
      headers: { authorization: `Bearer ${token}`, cookie: `mercureAuthorization=${token}` },
    });
    await res.text();
    // The stream of a query-token subscriber is logged when it ends (by the hub: its request
    // line is at debug, below this logger's level).
    const conn = await openSse(
      `${server.url}/.well-known/mercure?topic=t&authorization=${encodeURIComponent(token)}`,
    );
    conn.close();
    await eventually(
      () => log.records.some((r) => r.event === 'stream_close'),
      'the stream log line',
    );
    const line = log.records.findLast((r) => r.msg === 'request' && r.route === 'healthz');
    assert.ok(line);
    assert.equal(line.method, 'GET');
    assert.equal(line.path, '/healthz?x=1');
    assert.equal(line.status, 200);
    assert.equal(typeof line.durationMs, 'number');
    const all = log.raw.join('');
    assert.ok(!all.includes(token), 'no token anywhere in the log');
    assert.ok(!/authorization=/i.test(all));
    assert.ok(!/cookie/i.test(all));
  });

  it('logs a detached stream when its connection closes: completed only when the server ended it', async () => {
    // The request line of a stream the hub logs itself is at debug.
    const debug = memoryLogger('debug');
    const own = await startServer({
      port: 0,
      host: '127.0.0.1',
      logger: debug.logger,
      demo: false,
      hub: { jwt: { key: SECRET }, anonymous: true },
    });
    try {
      const lineOf = (topic: string) =>
        debug.records.find(
          (r) => r.msg === 'request' && r.path === `/.well-known/mercure?topic=${topic}`,
        );
      // The client leaves: not completed.
      const left = await openSse(`${own.url}/.well-known/mercure?topic=left`);
      assert.equal(lineOf('left'), undefined, 'nothing logged while the stream is open');
      left.close();
      await eventually(
        () => lineOf('left') !== undefined,
        'the line of the stream the client left',
      );
      assert.equal(lineOf('left')?.status, 200);
      assert.equal(lineOf('left')?.route, 'hub');
      assert.equal(lineOf('left')?.completed, false);
      // The server ends it (its token expires): completed.
      const token = await mintToken({ subscribe: ['*'], expiresIn: 1 }, { secret: SECRET });
      const ended = await openSse(`${own.url}/.well-known/mercure?topic=ended`, {
        headers: { authorization: `Bearer ${token}` },
      });
      await ended.waitForEnd(10_000);
      await eventually(() => lineOf('ended') !== undefined, 'the line of the stream the hub ended');
      assert.equal(lineOf('ended')?.completed, true);
    } finally {
      await own.close();
    }
  });

  it('strips secret query parameters, keeping the rest', () => {
    assert.equal(safeRequestPath('/a?authorization=x'), '/a');
    assert.equal(safeRequestPath('/a?topic=t&Authorization=x&access_token=y'), '/a?topic=t');
    assert.equal(safeRequestPath('/a'), '/a');
    assert.equal(safeRequestPath(undefined), '/');
  });

  it('serves Prometheus metrics when enabled', async () => {
    const res = await fetch(`${server.url}/metrics`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /text\/plain/);
    const body = await res.text();
    assert.match(body, /ssehub_http_requests_total\{route="healthz",status="200"\} \d+/);
    assert.match(body, /^ssehub_subscribers \d+$/m);
    assert.match(body, /^ssehub_dispatch_backlog \d+$/m);
    assert.match(body, /^ssehub_dispatch_pauses_total \d+$/m);
    assert.match(body, /^ssehub_history_cache_bytes \d+$/m);
    assert.match(body, /^# TYPE ssehub_feed_gaps_total counter$/m);
    assert.match(body, /ssehub_process_cpu_user_seconds_total/);
  });

  it('serves the browser bundle once it exists', async () => {
    const missing = await fetch(`${server.url}/ssehub-client.js`);
    assert.equal(missing.status, 404);
    assert.match(await missing.text(), /npm run build/);
    writeFileSync(bundle, 'export const ok = 1;\n');
    const res = await fetch(`${server.url}/ssehub-client.js`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /text\/javascript/);
    assert.equal(await res.text(), 'export const ok = 1;\n');
  });

  it('the demo page subscribes through the hub and gets its hello, then the clock', async () => {
    const res = await fetch(`${server.url}/`);
    assert.equal(res.status, 200);
    const html = await res.text();
    const m = html.match(/new EventSource\(("[^"]*")\)/);
    assert.ok(m, 'an EventSource in the page');
    const streamUrl = JSON.parse((m[1] as string).replace(/\\u003c/g, '<')) as string;
    assert.ok(streamUrl.startsWith('/.well-known/mercure?'), streamUrl);
    const params = new URL(streamUrl, server.url).searchParams;
    assert.ok(params.getAll('topic').includes(DEMO_TOPIC));
    assert.ok(params.get('lastEventID'));
    const conn = await openSse(new URL(streamUrl, server.url).href);
    try {
      await conn.waitFor(
        () =>
          new Set(conn.events.filter((e) => e.type === 'currentTime').map((e) => e.data)).size >= 2,
        'two currentTime values',
      );
      const hello = conn.events.find((e) => e.type === 'message');
      assert.match(hello?.data ?? '', /^hello!/);
      assert.ok(conn.events.indexOf(hello!) <= 1, 'the hello comes first (after at most one tick)');
    } finally {
      conn.close();
    }
  });

  it('keeps the tutorial streams /events and /sse', async () => {
    for (const path of ['/events', '/sse']) {
      const conn = await openSse(`${server.url}${path}`);
      try {
        assert.equal(conn.status, 200);
        await conn.waitFor(
          () => conn.events.some((e) => e.type === 'currentTime'),
          `a currentTime on ${path}`,
        );
        assert.match(conn.events[0]?.data ?? '', /^hello!/);
      } finally {
        conn.close();
      }
    }
  });
});

describe('startServer shutdown', () => {
  it('drains (readyz 503), then ends streams, flushes and closes; idempotent', async () => {
    const log = memoryLogger();
    const server = await startServer({
      port: 0,
      host: '127.0.0.1',
      logger: log.logger,
      demo: false,
      drainDelayMs: 60_000,
      hub: { jwt: { key: SECRET }, anonymous: true },
    });
    const conn = await openSse(`${server.url}/.well-known/mercure?topic=x`);
    // A keep-alive connection that stays open across the shutdown, to ask /readyz during it.
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const get = (path: string) =>
      new Promise<{ status: number; body: string }>((resolve, reject) => {
        http
          .get(`${server.url}${path}`, { agent }, (res) => {
            let body = '';
            res.setEncoding('utf8');
            res.on('data', (c: string) => {
              body += c;
            });
            res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
          })
          .on('error', reject);
      });
    try {
      assert.equal((await get('/readyz')).status, 200);
      const closing = server.close();
      assert.equal(server.close(), closing, 'close() returns the same promise');
      assert.equal(server.shuttingDown, true);
      const during = await get('/readyz');
      assert.equal(during.status, 503);
      assert.match(during.body, /shutting down/);
      assert.equal((await get('/healthz')).status, 200, 'still alive while draining');
      assert.equal(conn.ended, false, 'streams stay open while draining');
      server.skipDrain();
      await conn.waitForEnd();
      await closing;
      await assert.rejects(fetch(`${server.url}/healthz`), 'no longer accepting');
      assert.ok(log.records.some((r) => r.msg === 'hub shut down'));
    } finally {
      agent.destroy();
      conn.close();
      await server.close();
    }
  });

  it('destroys connections that outlive the grace time', async () => {
    const log = memoryLogger();
    const server = await startServer({
      port: 0,
      host: '127.0.0.1',
      logger: log.logger,
      demo: false,
      shutdownGraceMs: 50,
      hub: { jwt: { key: SECRET }, anonymous: true },
    });
    // A publish whose body never comes keeps its connection busy past the grace time. With
    // `Expect: 100-continue` the client learns when the server has the request.
    const token = await mintToken({ publish: ['*'] }, { secret: SECRET });
    const req = http.request(`${server.url}/.well-known/mercure`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${token}`,
        'content-type': 'application/x-www-form-urlencoded',
        'content-length': '1000',
        expect: '100-continue',
      },
    });
    const gone = new Promise<void>((resolve) => {
      req.on('error', () => resolve());
      req.on('close', () => resolve());
    });
    await new Promise<void>((resolve) => req.once('continue', resolve));
    req.write('topic=');
    await server.close();
    await gone;
    assert.ok(log.records.some((r) => /grace time over/.test(String(r.msg))));
  });

  it('rejects invalid options', async () => {
    await assert.rejects(startServer({ port: 70_000 }), /port must be an integer/);
    await assert.rejects(startServer({ shutdownGraceMs: -1 }), /shutdownGraceMs/);
    await assert.rejects(
      startServer({ port: 0, durability: 'power', logger: pino({ level: 'silent' }) }),
      /durability applies to the sqlite: transport only, not memory:/,
    );
    await assert.rejects(
      startServer({
        port: 0,
        durability: 'power',
        transportUrl: 'sqlite::memory:?durability=process',
        logger: pino({ level: 'silent' }),
      }),
      /durability power conflicts with durability=process/,
    );
  });

  it('passes durability on to a sqlite: transport', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ssehub-durability-'));
    const server = await startServer({
      port: 0,
      host: '127.0.0.1',
      demo: false,
      logger: pino({ level: 'silent' }),
      transportUrl: `sqlite:${join(dir, 'hub.db')}`,
      durability: 'power',
      hub: { jwt: { key: SECRET } },
    });
    try {
      const token = await mintToken({ publish: ['*'] }, { secret: SECRET });
      const res = await publishForm(server.url, token, { topic: 'https://ex/d', data: 'kept' });
      assert.equal(res.status, 200);
      await res.text();
    } finally {
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
