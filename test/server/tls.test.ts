import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import http2 from 'node:http2';
import https from 'node:https';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { mintToken } from '../../src/hub/auth/token.js';
import { startServer } from '../../src/server/index.js';
import type { RunningServer } from '../../src/server/options.js';
import { SseConnection } from '../helpers/sse-client.js';

const fixture = (name: string) => readFileSync(new URL(`fixtures/${name}`, import.meta.url));
const cert = fixture('tls-cert.pem');
const key = fixture('tls-key.pem');
const SECRET = 'tls-test-secret-0123456789abcdef';

function h2Get(
  session: http2.ClientHttp2Session,
  path: string,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = session.request({ ':path': path });
    let status = 0;
    let body = '';
    req.setEncoding('utf8');
    req.on('response', (headers) => {
      status = Number(headers[':status']);
    });
    req.on('data', (chunk: string) => {
      body += chunk;
    });
    req.on('end', () => resolve({ status, body }));
    req.on('error', reject);
  });
}

describe('TLS: HTTP/2 with HTTP/1.1 fallback', () => {
  let server: RunningServer;
  let session: http2.ClientHttp2Session;

  before(async () => {
    server = await startServer({
      port: 0,
      host: '127.0.0.1',
      tls: { cert, key },
      demo: false,
      logger: pino({ level: 'silent' }),
      hub: { jwt: { key: SECRET }, anonymous: true },
    });
    session = http2.connect(server.url, { ca: cert });
  });
  after(async () => {
    session?.close();
    await server?.close();
  });

  it('announces an https URL', () => {
    assert.match(server.url, /^https:\/\/127\.0\.0\.1:\d+$/);
  });

  it('answers health checks over HTTP/2', async () => {
    assert.deepEqual(await h2Get(session, '/healthz'), { status: 200, body: '{"status":"ok"}' });
    assert.equal((await h2Get(session, '/readyz')).status, 200);
  });

  it('answers an HTTP/1.1 client too (allowHTTP1)', async () => {
    const res = await new Promise<{ status: number; version: string }>((resolve, reject) => {
      https
        .get(`${server.url}/healthz`, { ca: cert, agent: false }, (r) => {
          r.resume();
          r.on('end', () => resolve({ status: r.statusCode ?? 0, version: r.httpVersion }));
        })
        .on('error', reject);
    });
    assert.deepEqual(res, { status: 200, version: '1.1' });
  });

  it('streams hub updates over HTTP/2', async () => {
    const conn = new SseConnection();
    const topic = 'https://example.com/h2';
    const req = session.request({
      ':path': `/.well-known/mercure?topic=${encodeURIComponent(topic)}`,
      accept: 'text/event-stream',
    });
    const headers = await new Promise<http2.IncomingHttpHeaders>((resolve) =>
      req.once('response', resolve),
    );
    req.on('data', (chunk: Buffer) => conn.feed(chunk));
    req.on('end', () => conn.end());
    try {
      assert.equal(headers[':status'], 200);
      assert.equal(headers['content-type'], 'text/event-stream');
      assert.equal(headers.connection, undefined, 'no Connection header on HTTP/2');
      const token = await mintToken({ publish: ['*'] }, { secret: SECRET });
      const pub = session.request({
        ':method': 'POST',
        ':path': '/.well-known/mercure',
        authorization: `Bearer ${token}`,
        'content-type': 'application/x-www-form-urlencoded',
      });
      pub.end(new URLSearchParams({ topic, data: 'over h2' }).toString());
      pub.resume();
      await conn.waitFor(() => conn.events.some((e) => e.data === 'over h2'), 'the update');
    } finally {
      req.close();
    }
  });
});
