// `ssehub serve` behind a real nginx (Debian's) running deploy/nginx.conf, the file
// docs/deployment.md quotes, with only the overrides a test machine needs (ports, the test
// certificate, and proxy_read_timeout shortened to 1.5 s). Through the proxy, over TLS and HTTP/2 or
// HTTP/1.1: updates flow while the stream stays open, heartbeats keep a stream open across many
// read timeouts (and without them nginx cuts it: the control), a Last-Event-ID resume gets exactly
// what was missed, and a stream's end reaches the client cleanly.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import https from 'node:https';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { resolveServeConfig } from '../../src/cli/config.js';
import { createHub } from '../../src/hub/index.js';
import { cliEnv, type ServeProcess, startServe } from '../helpers/cli-process.js';
import { mintTestToken, TEST_SECRET } from '../helpers/hub-server.js';
import {
  nginxMainConfig,
  nginxMissing,
  type RunningNginx,
  startNginxWith,
} from '../helpers/nginx.js';
import { openSse, openSseH2, type SseConnection } from '../helpers/sse-client.js';
import { DEFAULT_WAIT_MS } from '../helpers/waiters.js';

const NGINX_CONF = readFileSync(new URL('../../deploy/nginx.conf', import.meta.url), 'utf8');
const DOC = readFileSync(new URL('../../docs/deployment.md', import.meta.url), 'utf8');
const CERT = fileURLToPath(new URL('../server/fixtures/tls-cert.pem', import.meta.url));
const KEY = fileURLToPath(new URL('../server/fixtures/tls-key.pem', import.meta.url));
const CA = readFileSync(CERT);

/** The proxy's read timeout in these tests, and ssehub's heartbeat, well below it. */
const PROXY_TIMEOUT_MS = 1500;
const HEARTBEAT_MS = 200;
const TOPIC = 'https://example.com/deploy';
const HUB_PATH = '/.well-known/mercure';
const WAIT = DEFAULT_WAIT_MS * 2;

/**
 * deploy/nginx.conf as the test runs it: each override replaces a text that must occur exactly
 * once in the file, so an edit of the file that the test no longer matches fails here.
 */
function testConfig(upstreamPort: number, port: number, extra: [string, string][] = []): string {
  const overrides: [string, string][] = [
    ['server 127.0.0.1:3000;', `server 127.0.0.1:${upstreamPort};`],
    ['listen 443 ssl http2;', `listen 127.0.0.1:${port} ssl http2;`],
    ['/etc/ssl/private/hub.example.com.crt', CERT],
    ['/etc/ssl/private/hub.example.com.key', KEY],
    ['proxy_read_timeout 1h;', `proxy_read_timeout ${PROXY_TIMEOUT_MS}ms;`],
    ...extra,
  ];
  let conf = NGINX_CONF;
  for (const [from, to] of overrides) {
    const parts = conf.split(from);
    assert.equal(parts.length, 2, `deploy/nginx.conf contains "${from}" exactly once`);
    conf = parts.join(to);
  }
  return conf;
}

interface Proxied {
  hub: ServeProcess;
  nginx: RunningNginx;
  origin: string;
  stop(): Promise<void>;
}

/**
 * `ssehub serve` with `args` and nginx with the test's deploy/nginx.conf in front of it (plus the
 * `extra` overrides).
 */
async function startProxied(args: string[], extra: [string, string][] = []): Promise<Proxied> {
  const hub = await startServe(['--no-demo', ...args], cliEnv({ SSEHUB_JWT_KEY: TEST_SECRET }));
  let nginx: RunningNginx;
  try {
    nginx = await startNginxWith((dir, port) =>
      nginxMainConfig(dir, testConfig(hub.port, port, extra)),
    );
  } catch (err) {
    await hub.dispose();
    throw err;
  }
  return {
    hub,
    nginx,
    origin: `https://127.0.0.1:${nginx.port}`,
    async stop() {
      await nginx.stop();
      await hub.dispose();
    },
  };
}

const subscribeQuery = `${HUB_PATH}?topic=${encodeURIComponent(TOPIC)}`;

async function subscriberHeaders(extra: Record<string, string> = {}) {
  return { authorization: `Bearer ${await mintTestToken({ subscribe: ['*'] })}`, ...extra };
}

/** Publishes `data` through the proxy (HTTPS); resolves with the update's id. */
async function publish(origin: string, data: string): Promise<string> {
  const token = await mintTestToken({ publish: ['*'] });
  const body = new URLSearchParams({ topic: TOPIC, data }).toString();
  return new Promise((resolve, reject) => {
    const req = https.request(
      `${origin}${HUB_PATH}`,
      {
        method: 'POST',
        ca: CA,
        agent: false,
        headers: {
          authorization: `Bearer ${token}`,
          'content-type': 'application/x-www-form-urlencoded',
        },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          text += chunk;
        });
        res.on('end', () => {
          if (res.statusCode === 200) resolve(text);
          else reject(new Error(`publish through nginx: ${res.statusCode} ${text}`));
        });
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** Heartbeat comments received: every comment but the stream's opening one. */
const heartbeats = (conn: SseConnection) => Math.max(0, conn.comments.length - 1);

type Open = (origin: string, headers: Record<string, string>) => Promise<SseConnection>;
const PROTOCOLS: [string, Open][] = [
  ['HTTP/2', (origin, headers) => openSseH2(origin, subscribeQuery, { headers, ca: CA })],
  ['HTTP/1.1', (origin, headers) => openSse(`${origin}${subscribeQuery}`, { headers, ca: CA })],
];

/**
 * Through the proxy at `origin`: an open stream (a heartbeat came through) gets an update published
 * after it connected and stays open: the next update arrives on the same stream.
 */
async function assertUpdatesFlow(origin: string, open: Open): Promise<void> {
  const conn = await open(origin, await subscriberHeaders());
  try {
    assert.equal(conn.status, 200);
    await conn.waitFor(() => heartbeats(conn) >= 1, 'a heartbeat through nginx', WAIT);
    const first = await publish(origin, 'first');
    await conn.waitForEvents(1, WAIT);
    assert.equal(conn.events[0]?.lastEventId, first);
    assert.equal(conn.events[0]?.data, 'first');
    assert.equal(conn.ended, false, 'the stream is still open after the event');
    const second = await publish(origin, 'second');
    await conn.waitForEvents(2, WAIT);
    assert.deepEqual(
      conn.events.map((e) => e.lastEventId),
      [first, second],
    );
    assert.equal(conn.ended, false);
  } finally {
    conn.close();
  }
}

it('docs/deployment.md quotes deploy/nginx.conf and deploy/ssehub.service verbatim', () => {
  assert.ok(
    DOC.includes(`\`\`\`nginx\n${NGINX_CONF}\`\`\``),
    'deploy/nginx.conf in an nginx block',
  );
  const unit = readFileSync(new URL('../../deploy/ssehub.service', import.meta.url), 'utf8');
  assert.ok(DOC.includes(`\`\`\`ini\n${unit}\`\`\``), 'deploy/ssehub.service in an ini block');
});

it('deploy/ssehub.service trusts the X-Forwarded-For of nginx on the same host', () => {
  const unit = readFileSync(new URL('../../deploy/ssehub.service', import.meta.url), 'utf8');
  const env: Record<string, string> = {};
  for (const m of unit.matchAll(/^Environment=([A-Z_]+)=(.*)$/gm)) env[m[1]!] = m[2]!;
  const config = resolveServeConfig({}, { ...env, SSEHUB_JWT_KEY: TEST_SECRET });
  const upstream = /^\s*server (\S+):\d+;/m.exec(NGINX_CONF)?.[1];
  assert.ok(upstream, 'the upstream address of deploy/nginx.conf');
  const hub = createHub({ ...config.server.hub, logger: pino({ level: 'silent' }) });
  const req = (peer: string) =>
    ({
      socket: { remoteAddress: peer },
      headers: { 'x-forwarded-for': '198.51.100.1, 203.0.113.7' },
    }) as unknown as IncomingMessage;
  // nginx connects from the loopback address its upstream names (IPv4, or mapped on a dual stack).
  assert.equal(hub.clientAddress(req(upstream)), '203.0.113.7');
  assert.equal(hub.clientAddress(req(`::ffff:${upstream}`)), '203.0.113.7');
  // Any other peer's header is not read.
  assert.equal(hub.clientAddress(req('192.0.2.9')), '192.0.2.9');
  void hub.shutdown();
});

const missing = nginxMissing();

describe('ssehub serve behind nginx with deploy/nginx.conf', {
  skip: missing !== undefined && !process.env.CI ? missing : false,
}, () => {
  let proxied: Proxied;

  before(async () => {
    assert.equal(missing, undefined, `${missing} (CI is set: nginx is required)`);
    proxied = await startProxied(['--heartbeat', `${HEARTBEAT_MS}ms`]);
  });
  after(() => proxied?.stop());

  for (const [protocol, open] of PROTOCOLS) {
    it(`${protocol}: an update published after the subscriber connected arrives at once, and the stream stays open`, async () => {
      await assertUpdatesFlow(proxied.origin, open);
    });
  }

  it("proxy_buffering on: ssehub's X-Accel-Buffering: no alone keeps streams unbuffered", async (t) => {
    // The control, run by hand: with proxy_ignore_headers X-Accel-Buffering added, nginx holds
    // the stream in its buffer and this fails (not even a heartbeat arrives).
    const buffering = await startProxied(
      ['--heartbeat', `${HEARTBEAT_MS}ms`],
      [['proxy_buffering off;', 'proxy_buffering on;']],
    );
    t.after(() => buffering.stop());
    for (const [, open] of PROTOCOLS) await assertUpdatesFlow(buffering.origin, open);
  });

  it('heartbeats keep a quiet stream open through nginx across several read timeouts', async () => {
    const headers = await subscriberHeaders();
    // From before the request: whenever the client gets to read, the stream is at least this old.
    const start = Date.now();
    const conn = await openSseH2(proxied.origin, subscribeQuery, { headers, ca: CA });
    try {
      assert.equal(conn.status, 200);
      // k heartbeats span k × 200 ms > 3 × the proxy's 1.5 s read timeout (the stream's first
      // comment, ": ok", is its opening, not a heartbeat).
      const k = Math.ceil((3 * PROXY_TIMEOUT_MS) / HEARTBEAT_MS) + 1;
      await conn.waitFor(() => heartbeats(conn) >= k || conn.ended, `${k} heartbeats`, WAIT);
      assert.equal(conn.ended, false, 'nginx did not cut the stream');
      assert.ok(heartbeats(conn) >= k);
      assert.ok(Date.now() - start > 3 * PROXY_TIMEOUT_MS, 'open for over 3 read timeouts');
      assert.equal(conn.events.length, 0);
      assert.doesNotMatch(proxied.nginx.errorLog(), /timed out/);
    } finally {
      conn.close();
    }
  });

  it('control: with --heartbeat 0, nginx cuts the quiet stream after its read timeout', async (t) => {
    const quiet = await startProxied(['--heartbeat', '0']);
    t.after(() => quiet.stop());
    const headers = await subscriberHeaders();
    // From before the request: nginx's timer starts later, at its last read from ssehub.
    const start = Date.now();
    const conn = await openSseH2(quiet.origin, subscribeQuery, { headers, ca: CA });
    try {
      assert.equal(conn.status, 200);
      await conn.waitForEnd(WAIT);
      const lasted = Date.now() - start;
      assert.ok(lasted >= PROXY_TIMEOUT_MS * 0.9, `the stream lasted ${lasted} ms`);
      assert.equal(heartbeats(conn), 0);
      assert.match(quiet.nginx.errorLog(), /upstream timed out .* while reading upstream/);
    } finally {
      conn.close();
    }
  });

  it('a Last-Event-ID resume through nginx gets exactly the missed updates, then live ones', async () => {
    const headers = await subscriberHeaders();
    const before = await openSse(`${proxied.origin}${subscribeQuery}`, { headers, ca: CA });
    const seen = await publish(proxied.origin, 'seen');
    await before.waitForEvents(1, WAIT);
    before.close();
    assert.deepEqual(
      before.events.map((e) => e.lastEventId),
      [seen],
    );

    const missed: string[] = [];
    for (const data of ['missed-1', 'missed-2', 'missed-3']) {
      missed.push(await publish(proxied.origin, data));
    }
    const resumed = await openSse(`${proxied.origin}${subscribeQuery}`, {
      headers: { ...headers, 'last-event-id': seen },
      ca: CA,
    });
    try {
      assert.equal(resumed.status, 200);
      await resumed.waitForEvents(3, WAIT);
      const live = await publish(proxied.origin, 'live');
      await resumed.waitForEvents(4, WAIT);
      assert.deepEqual(
        resumed.events.map((e) => e.lastEventId),
        [...missed, live],
      );
      assert.deepEqual(
        resumed.events.map((e) => e.data),
        ['missed-1', 'missed-2', 'missed-3', 'live'],
      );
    } finally {
      resumed.close();
    }
  });

  it('the stream headers through nginx: event-stream, no-transform; X-Accel-Buffering is taken by nginx', async () => {
    const direct = await openSse(`${proxied.hub.url}${subscribeQuery}`, {
      headers: await subscriberHeaders(),
    });
    direct.close();
    // ssehub tells nginx not to buffer, with a close-delimited HTTP/1.1 body.
    assert.equal(direct.headers['x-accel-buffering'], 'no');
    assert.equal(direct.headers['transfer-encoding'], undefined);
    assert.equal(direct.headers['content-length'], undefined);

    for (const [protocol, open] of PROTOCOLS) {
      const conn = await open(proxied.origin, await subscriberHeaders());
      conn.close();
      assert.equal(conn.status, 200, protocol);
      assert.equal(conn.headers['content-type'], 'text/event-stream', protocol);
      assert.equal(conn.headers['cache-control'], 'no-cache, no-transform', protocol);
      // nginx acts on X-Accel-* headers and does not pass them on.
      assert.equal(conn.headers['x-accel-buffering'], undefined, protocol);
      if (protocol === 'HTTP/1.1') {
        // nginx re-frames the close-delimited body for its client: chunks, keep-alive.
        assert.equal(conn.headers['transfer-encoding'], 'chunked');
      }
    }
  });

  it('a stream that ssehub ends reaches the HTTP/1.1 client as a clean end, and its connection stays usable', async (t) => {
    const ending = await startProxied([
      '--heartbeat',
      `${HEARTBEAT_MS}ms`,
      '--max-stream-lifetime',
      '1500ms',
    ]);
    t.after(() => ending.stop());
    const agent = new https.Agent({ keepAlive: true, maxSockets: 1, ca: CA });
    t.after(() => agent.destroy());
    const headers = await subscriberHeaders({ accept: 'text/event-stream' });
    const get = () =>
      new Promise<{ reused: boolean; end: 'end' | 'aborted'; body: string }>((resolve, reject) => {
        const req = https.get(`${ending.origin}${subscribeQuery}`, { agent, headers }, (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => {
            body += chunk;
          });
          res.on('end', () => resolve({ reused: req.reusedSocket, end: 'end', body }));
          res.on('aborted', () => resolve({ reused: req.reusedSocket, end: 'aborted', body }));
        });
        req.setTimeout(WAIT, () => req.destroy(new Error('no end of the stream')));
        req.on('error', reject);
      });
    const first = await get();
    assert.equal(first.end, 'end', 'the chunked body ended with its last chunk');
    assert.match(first.body, /^:/m, 'heartbeats came through before the end');
    const second = await get();
    assert.equal(second.reused, true, 'the next request went over the same client connection');
    assert.equal(second.end, 'end');
  });
});
