import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { isSseHubError } from '../../src/errors.js';
import { discoveryLinkHeader, setDiscoveryLink } from '../../src/hub/http/discovery.js';
import {
  getText,
  mintTestToken,
  type RunningHub,
  startHub,
  subscribeUrl,
} from '../helpers/hub-server.js';
import { listen, openSse } from '../helpers/sse-client.js';

const APP = 'https://app.example.com';

describe('CORS', () => {
  let h: RunningHub;
  let star: RunningHub;
  before(async () => {
    h = await startHub({ anonymous: true, corsOrigins: [APP] });
    star = await startHub({ anonymous: true, corsOrigins: ['*'] });
  });
  after(async () => {
    await h.close();
    await star.close();
  });

  async function preflight(url: string, origin: string) {
    return fetch(url, {
      method: 'OPTIONS',
      headers: {
        origin,
        'access-control-request-method': 'GET',
        'access-control-request-headers': 'authorization, last-event-id',
      },
    });
  }

  it('answers a preflight from an allowed origin with 204 and credentials', async () => {
    const res = await preflight(h.url, APP);
    assert.equal(res.status, 204);
    assert.equal(res.headers.get('access-control-allow-origin'), APP);
    assert.equal(res.headers.get('access-control-allow-credentials'), 'true');
    assert.match(res.headers.get('vary') ?? '', /Origin/);
    const allowed = (res.headers.get('access-control-allow-headers') ?? '').split(/,\s*/);
    for (const name of ['authorization', 'last-event-id', 'cache-control']) {
      assert.ok(allowed.includes(name), `${name} is allowed`);
    }
    assert.match(res.headers.get('access-control-allow-methods') ?? '', /GET.*POST/);
  });

  it('refuses a preflight from another origin, without CORS headers', async () => {
    const res = await preflight(h.url, 'https://evil.example');
    assert.equal(res.status, 403);
    assert.equal(res.headers.get('access-control-allow-origin'), null);
    assert.equal(res.headers.get('access-control-allow-credentials'), null);
    assert.match(await res.text(), /origin is not allowed/);
  });

  it('adds CORS headers to the event stream for an allowed origin only', async () => {
    const allowed = await openSse(subscribeUrl(h.url, ['t']), { headers: { origin: APP } });
    const denied = await openSse(subscribeUrl(h.url, ['t']), {
      headers: { origin: 'https://evil.example' },
    });
    try {
      assert.equal(allowed.headers['access-control-allow-origin'], APP);
      assert.equal(allowed.headers['access-control-allow-credentials'], 'true');
      assert.match(String(allowed.headers['access-control-expose-headers']), /Last-Event-ID/);
      assert.equal(allowed.headers['content-type'], 'text/event-stream');
      assert.equal(denied.headers['access-control-allow-origin'], undefined);
    } finally {
      allowed.close();
      denied.close();
    }
  });

  it('adds CORS headers to error answers, so the page can read the status', async () => {
    const res = await getText(h.url, { origin: APP });
    assert.equal(res.status, 400);
    assert.equal(res.headers.get('access-control-allow-origin'), APP);
  });

  it('answers * without credentials when any origin is allowed', async () => {
    const res = await preflight(star.url, 'https://anywhere.example');
    assert.equal(res.status, 204);
    assert.equal(res.headers.get('access-control-allow-origin'), '*');
    assert.equal(res.headers.get('access-control-allow-credentials'), null);
  });

  it('never lets a cookie publish from an origin publishOrigins does not name', async () => {
    const token = await mintTestToken({ publish: ['*'] });
    const body = 'topic=t&data=x';
    const headers = {
      'content-type': 'application/x-www-form-urlencoded',
      cookie: `mercureAuthorization=${token}`,
      origin: 'https://anywhere.example',
    };
    // corsOrigins ['*'] does not make publishOrigins '*': that would disable the CSRF guard.
    assert.equal((await fetch(star.url, { method: 'POST', headers, body })).status, 403);
    const named = await startHub({ corsOrigins: ['*'], publishOrigins: [APP] });
    try {
      assert.equal((await fetch(named.url, { method: 'POST', headers, body })).status, 403);
      const fromApp = { ...headers, origin: APP };
      assert.equal(
        (await fetch(named.url, { method: 'POST', headers: fromApp, body })).status,
        200,
      );
    } finally {
      await named.close();
    }
  });
});

describe('discovery', () => {
  it('builds the Link header value', () => {
    assert.equal(
      discoveryLinkHeader('https://example.com/.well-known/mercure'),
      '<https://example.com/.well-known/mercure>; rel="mercure"',
    );
    assert.equal(
      discoveryLinkHeader('https://example.com/.well-known/mercure', {
        lastEventId: 'urn:uuid:1',
        contentType: 'application/ld+json',
      }),
      '<https://example.com/.well-known/mercure>; rel="mercure"; last-event-id="urn:uuid:1"; content-type="application/ld+json"',
    );
    assert.throws(
      () => discoveryLinkHeader('https://x/>; rel="evil"'),
      (err) => isSseHubError(err, 'INVALID_OPTION'),
    );
    assert.throws(
      () => discoveryLinkHeader('https://x/', { lastEventId: 'a"b' }),
      (err) => isSseHubError(err, 'INVALID_OPTION'),
    );
  });

  it('adds the Link header to a real response, keeping other links', async () => {
    const server = createServer((_req, res) => {
      res.setHeader('Link', '</books/1>; rel="self"');
      setDiscoveryLink(res, 'https://hub.example.com/.well-known/mercure');
      res.end('{}');
    });
    const origin = await listen(server);
    try {
      const res = await fetch(`${origin}/books/1`);
      await res.text();
      assert.equal(
        res.headers.get('link'),
        '</books/1>; rel="self", <https://hub.example.com/.well-known/mercure>; rel="mercure"',
      );
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });
});
