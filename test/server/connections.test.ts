// Connection limits and timeouts of the standalone server, on real sockets: the connection cap
// (503 + Retry-After, metric, rate-limited warning), the headers and request timeouts that end
// slowloris clients and trickled publish bodies, and event streams that outlive both.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import http2 from 'node:http2';
import { Writable } from 'node:stream';
import { describe, it, type TestContext } from 'node:test';
import { pino } from 'pino';
import { mintToken } from '../../src/hub/auth/token.js';
import { startServer } from '../../src/server/index.js';
import type { RunningServer, ServerOptions } from '../../src/server/options.js';
import { eventually, openSse } from '../helpers/sse-client.js';
import { RawConnection } from './raw-socket.js';

const SECRET = 'connections-test-secret-0123456789';
const fixture = (name: string) => readFileSync(new URL(`fixtures/${name}`, import.meta.url));

function memoryLogger() {
  const records: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString('utf8').split('\n'))
        if (line) records.push(JSON.parse(line));
      done();
    },
  });
  return { logger: pino({ level: 'info' }, stream), records };
}

async function start(t: TestContext, options: ServerOptions) {
  const log = memoryLogger();
  const server: RunningServer = await startServer({
    port: 0,
    host: '127.0.0.1',
    logger: log.logger,
    demo: false,
    hub: { jwt: { key: SECRET }, anonymous: true },
    ...options,
  });
  const opened: RawConnection[] = [];
  const connect = async (opts?: Parameters<typeof RawConnection.open>[1]) => {
    const conn = await RawConnection.open(server.port, opts);
    opened.push(conn);
    return conn;
  };
  t.after(async () => {
    for (const conn of opened) conn.destroy();
    await server.close();
  });
  return { server, log, connect };
}

function metric(text: string, name: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line === undefined ? undefined : Number(line.slice(name.length + 1));
}

describe('connection limit', () => {
  it('answers a connection past maxConnections with 503, Retry-After and Connection: close', async (t) => {
    const { connect, log } = await start(t, { maxConnections: 2, metrics: true });
    // Two keep-alive connections, each known to the server (it answered a request on it).
    const a = await connect();
    assert.equal((await a.get('/healthz')).status, 200);
    const b = await connect();
    assert.equal((await b.get('/healthz')).status, 200);

    const extra = await connect();
    extra.write('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
    const refused = await extra.nextResponse();
    assert.equal(refused.status, 503);
    assert.equal(refused.headers['retry-after'], '5');
    assert.equal(refused.headers.connection, 'close');
    await extra.waitForClose();

    // The admitted connections still work, and the refusal shows in the metrics and the log.
    const metrics = await a.get('/metrics');
    assert.equal(metrics.status, 200);
    assert.equal(metric(metrics.body, 'ssehub_connections_refused_total'), 1);
    assert.equal(metric(metrics.body, 'ssehub_connections'), 2);
    const warning = log.records.find(
      (r) => r.msg === 'connection limit reached: connections refused',
    );
    assert.ok(warning, 'a warning');
    assert.equal(warning.level, 40);
    assert.equal(warning.count, 1);
    assert.equal(warning.maxConnections, 2);
  });

  it('logs a burst of refusals as a count, not a line each', async (t) => {
    const { connect, log } = await start(t, { maxConnections: 1 });
    const a = await connect();
    assert.equal((await a.get('/healthz')).status, 200);
    const burst = await Promise.all(Array.from({ length: 8 }, () => connect()));
    await Promise.all(burst.map((c) => c.waitForClose()));
    for (const c of burst) assert.match(c.received, /^HTTP\/1\.1 503 /);
    const warnings = () =>
      log.records.filter((r) => r.msg === 'connection limit reached: connections refused');
    const counted = () => warnings().reduce((n, r) => n + Number(r.count), 0);
    // The first refusal is logged at once; the rest when the one-second window closes.
    await eventually(() => counted() === 8, 'all 8 refusals counted in the log');
    assert.ok(warnings().length < 8, `${warnings().length} lines for 8 refusals`);
  });

  it('frees a slot when a connection closes', async (t) => {
    const { connect, server } = await start(t, { maxConnections: 1 });
    const a = await connect();
    assert.equal((await a.get('/healthz')).status, 200);
    a.destroy();
    await a.waitForClose();
    // The server learns of the close asynchronously: retry until a new connection is admitted.
    let status = 0;
    for (let i = 0; i < 100 && status !== 200; i++) {
      const res = await fetch(`${server.url}/healthz`, { headers: { connection: 'close' } });
      status = res.status;
      await res.text();
    }
    assert.equal(status, 200);
  });

  it('over TLS closes a connection past the limit without a handshake, and counts it', async (t) => {
    const cert = fixture('tls-cert.pem');
    const { server, connect } = await start(t, {
      maxConnections: 1,
      metrics: true,
      tls: { cert, key: fixture('tls-key.pem') },
    });
    const session = http2.connect(server.url, { ca: cert });
    t.after(() => session.close());
    const get = (path: string) =>
      new Promise<string>((resolve, reject) => {
        const req = session.request({ ':path': path });
        let body = '';
        req.setEncoding('utf8');
        req.on('data', (c: string) => {
          body += c;
        });
        req.on('end', () => resolve(body));
        req.on('error', reject);
      });
    await get('/healthz');
    // TCP connects (the kernel accepts), then the server closes it before any TLS byte.
    const extra = await connect({ allowHalfOpen: false });
    await extra.waitForClose();
    assert.equal(extra.received, '');
    assert.equal(metric(await get('/metrics'), 'ssehub_connections_refused_total'), 1);
  });
});

describe('refused connections', () => {
  /** A refused client that never hangs up and keeps sending a byte every 100 ms (never idle). */
  async function trickler(connect: Awaited<ReturnType<typeof start>>['connect']) {
    const conn = await connect({ allowHalfOpen: true });
    conn.write('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
    const timer = setInterval(() => {
      if (!conn.closed) conn.write('x');
    }, 100);
    conn.socket.once('close', () => clearInterval(timer));
    await conn.waitFor(() => conn.received.startsWith('HTTP/1.1 503 '), 'the 503');
    return { conn, stop: () => clearInterval(timer) };
  }

  it('closes a refused connection within its linger even while the client keeps sending', async (t) => {
    const { connect } = await start(t, { maxConnections: 1 });
    const a = await connect();
    assert.equal((await a.get('/healthz')).status, 200);
    const { conn, stop } = await trickler(connect);
    t.after(stop);
    // Gone within the 1 s linger, although the client was never idle for as long as that.
    await conn.waitFor(() => conn.closed, 'the refused connection to be closed', 5_000);
  });

  it('close() does not wait for a refused client that keeps sending', async (t) => {
    const { connect, server } = await start(t, { maxConnections: 1 });
    const a = await connect();
    assert.equal((await a.get('/healthz')).status, 200);
    const { conn, stop } = await trickler(connect);
    // The client would trickle for 30 s, then give up; close() must not be what waits for it.
    const order: string[] = [];
    const gaveUp = new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        order.push('client gave up');
        stop();
        conn.destroy();
        resolve();
      }, 30_000);
      t.after(() => {
        clearTimeout(timer);
        stop();
      });
    });
    const closed = server.close().then(() => {
      order.push('close resolved');
    });
    await Promise.race([closed, gaveUp]);
    assert.deepEqual(order, ['close resolved']);
  });
});

describe('HTTP/2 streams per connection', () => {
  const cert = fixture('tls-cert.pem');
  const tls = { cert, key: fixture('tls-key.pem') };
  const topic = (i: number) =>
    `/.well-known/mercure?topic=${encodeURIComponent(`https://example.com/t${i}`)}`;

  /** Opens `n` event streams on `session`; counts those answered 200 and those refused. */
  function openStreams(session: http2.ClientHttp2Session, n: number) {
    const state = { ok: 0, errors: [] as string[] };
    const streams = Array.from({ length: n }, (_, i) => {
      const stream = session.request({ ':path': topic(i) });
      stream.on('response', (headers) => {
        if (headers[':status'] === 200) state.ok += 1;
      });
      stream.on('error', (err: Error) => state.errors.push(err.message));
      // Read, as an EventSource does (an unread stream holds a shutdown until its grace ends).
      stream.resume();
      return stream;
    });
    return { state, streams };
  }

  /** Reads `ssehub_subscribers` over a connection of its own (the streams' one has no room). */
  function metricsReader(t: TestContext, url: string) {
    const session = http2.connect(url, { ca: cert });
    session.on('error', () => {});
    t.after(() => session.destroy());
    const subscribers = () =>
      new Promise<number | undefined>((resolve, reject) => {
        const req = session.request({ ':path': '/metrics' });
        let text = '';
        req.setEncoding('utf8');
        req.on('data', (c: string) => {
          text += c;
        });
        req.on('end', () => resolve(metric(text, 'ssehub_subscribers')));
        req.on('error', reject);
      });
    /** Polls until `ssehub_subscribers` is `n`. */
    const until = async (n: number) => {
      const deadline = Date.now() + 10_000;
      for (;;) {
        const seen = await subscribers();
        if (seen === n) return;
        if (Date.now() > deadline) throw new Error(`ssehub_subscribers stayed ${seen}, not ${n}`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    };
    return { subscribers, until };
  }

  it('advertises maxStreamsPerConnection; streams past it wait until one ends', async (t) => {
    const { server } = await start(t, {
      tls,
      metrics: true,
      maxConnections: 2,
      maxStreamsPerConnection: 3,
    });
    const session = http2.connect(server.url, { ca: cert });
    t.after(() => session.destroy());
    session.on('error', () => {});
    await new Promise((resolve) => session.once('remoteSettings', resolve));
    assert.equal(session.remoteSettings.maxConcurrentStreams, 3);

    const metrics = metricsReader(t, server.url);
    const { state, streams } = openStreams(session, 10);
    await eventually(() => state.ok === 3, 'three streams answered');
    await metrics.until(3);
    // Seen from the server and from the client: still 3, the other 7 wait on the client.
    assert.equal(await metrics.subscribers(), 3);
    assert.equal(state.ok, 3);
    assert.deepEqual(state.errors, []);

    // One ends: exactly one waiting stream takes its place.
    streams[0]?.close();
    await eventually(() => state.ok === 4, 'a waiting stream started');
    await metrics.until(3);
    assert.equal(state.ok, 4);
  });

  it('refuses streams of a client that does not wait for the limit', async (t) => {
    const { server } = await start(t, {
      tls,
      metrics: true,
      maxConnections: 2,
      maxStreamsPerConnection: 3,
    });
    // Assumes room for 1000 streams until the server's SETTINGS arrive, and sends at once.
    const session = http2.connect(server.url, { ca: cert, peerMaxConcurrentStreams: 1000 });
    t.after(() => session.destroy());
    session.on('error', () => {});
    const metrics = metricsReader(t, server.url);
    const { state } = openStreams(session, 10);
    await eventually(() => state.ok === 3, 'three streams answered');
    await metrics.until(3);
    assert.equal(state.ok, 3);
    // Those sent before the client learnt the limit are refused; any sent after wait.
    for (const message of state.errors) assert.match(message, /REFUSED_STREAM/);
  });

  it('rejects an invalid maxStreamsPerConnection', async () => {
    await assert.rejects(startServer({ maxStreamsPerConnection: 0 }), /maxStreamsPerConnection/);
    await assert.rejects(
      startServer({ maxStreamsPerConnection: 2 ** 32 }),
      /maxStreamsPerConnection must be at most/,
    );
  });
});

describe('timeouts', () => {
  it('closes a header-slowloris after headersTimeout', async (t) => {
    const { connect } = await start(t, { headersTimeoutMs: 500, requestTimeoutMs: 60_000 });
    const slow = await connect();
    slow.write('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ');
    // Well under Node's own default (60 s) and ours (10 s): the configured 500 ms applies.
    await slow.waitForClose(5_000);
    assert.match(slow.received, /^HTTP\/1\.1 408 /);
  });

  it('cuts a publish body that trickles past requestTimeout; a stream outlives it', async (t) => {
    const { connect, server } = await start(t, {
      headersTimeoutMs: 500,
      requestTimeoutMs: 1_000,
    });
    // The stream's request is older than the slow publish below: were requestTimeout to apply to
    // streams, it would have been cut by the time the publish is.
    const stream = await openSse(`${server.url}/.well-known/mercure?topic=https://ex/t`);
    assert.equal(stream.status, 200);

    const token = await mintToken({ publish: ['*'] }, { secret: SECRET });
    const slow = await connect();
    slow.write(
      'POST /.well-known/mercure HTTP/1.1\r\nHost: 127.0.0.1\r\n' +
        `Authorization: Bearer ${token}\r\n` +
        'Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n' +
        'Expect: 100-continue\r\n\r\n',
    );
    // The hub read the headers and waits for the body; send a little of it, then nothing.
    await slow.waitFor(() => slow.received.includes('100 Continue'), '100 Continue');
    slow.write('topic=https%3A%2F%2Fex%2Ft&data=');
    await slow.waitForClose(8_000);
    assert.match(slow.received, /HTTP\/1\.1 408 /);

    // The server's timer has fired since the stream started; the stream is still live.
    const publisher = await fetch(`${server.url}/.well-known/mercure`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${token}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: new URLSearchParams({ topic: 'https://ex/t', data: 'after the timeout' }),
    });
    assert.equal(publisher.status, 200);
    await publisher.text();
    const events = await stream.waitForEvents(1);
    assert.equal(events[0]?.data, 'after the timeout');
    assert.equal(stream.ended, false);
    stream.close();
  });

  it('closes an idle keep-alive connection after keepAliveTimeout', async (t) => {
    const { connect } = await start(t, { keepAliveTimeoutMs: 300 });
    const idle = await connect({ allowHalfOpen: true });
    assert.equal((await idle.get('/healthz')).status, 200);
    await idle.waitForClose(5_000);
  });

  it('over TLS (HTTP/1.1 fallback): headers and keep-alive timeouts apply too', async (t) => {
    const cert = fixture('tls-cert.pem');
    const { connect } = await start(t, {
      headersTimeoutMs: 500,
      keepAliveTimeoutMs: 300,
      tls: { cert, key: fixture('tls-key.pem') },
    });
    const tlsOptions = { ca: cert, servername: 'localhost', ALPNProtocols: ['http/1.1'] };
    const slow = await connect({ tls: tlsOptions });
    slow.write('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ');
    await slow.waitForClose(5_000);
    assert.match(slow.received, /^HTTP\/1\.1 408 /);
    // Node sets no keep-alive timeout on the HTTP/1.1 fallback of an HTTP/2 server by itself.
    const idle = await connect({ tls: tlsOptions });
    assert.equal((await idle.get('/healthz')).status, 200);
    await idle.waitForClose(5_000);
  });

  it('over TLS: a client that never starts its handshake is closed after headersTimeout', async (t) => {
    const { connect } = await start(t, {
      headersTimeoutMs: 500,
      tls: { cert: fixture('tls-cert.pem'), key: fixture('tls-key.pem') },
    });
    const silent = await connect();
    await silent.waitForClose(5_000);
  });
});

describe('open-file limit', () => {
  it('warns at start when maxConnections does not fit the open-file limit', async (t) => {
    if (process.platform !== 'linux') {
      t.skip('reads /proc/self/limits');
      return;
    }
    const { log } = await start(t, { maxConnections: 100_000_000 });
    const listening = log.records.find((r) => String(r.msg).startsWith('ssehub listening'));
    assert.ok(listening && typeof listening.fdLimit === 'number', 'the limit is logged');
    const warning = log.records.find((r) => /exceeds the open-file limit/.test(String(r.msg)));
    assert.ok(warning, 'a warning');
    assert.equal(warning.level, 40);
    assert.equal(warning.maxConnections, 100_000_000);
  });

  it('rejects invalid connection options', async () => {
    await assert.rejects(startServer({ maxConnections: 0 }), /maxConnections/);
    await assert.rejects(startServer({ headersTimeoutMs: 1.5 }), /headersTimeoutMs/);
    await assert.rejects(
      startServer({ headersTimeoutMs: 20_000, requestTimeoutMs: 10_000 }),
      /headersTimeoutMs must not exceed requestTimeoutMs/,
    );
  });
});
