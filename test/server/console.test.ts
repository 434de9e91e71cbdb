// The web console's routes without a browser: enablement, the access rule, the API's answers and
// bounds, the security headers, the sampler. The browser test is test/browser/console.test.ts.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import { resolveServeConfig } from '../../src/cli/config.js';
import { mintToken } from '../../src/hub/auth/token.js';
import { MAX_CHECK_BODY_BYTES } from '../../src/server/console/api.js';
import { CONSOLE_CSP, StatsSampler } from '../../src/server/console/index.js';
import { startServer } from '../../src/server/index.js';
import { subscriptionsPath } from '../../ui/console/hub-paths.js';

const SECRET = 'console-unit-secret-0123456789abcdef';

async function start(options: { console?: boolean; subscriptions?: boolean; path?: string } = {}) {
  return startServer({
    port: 0,
    host: '127.0.0.1',
    demo: false,
    console: options.console ?? true,
    logger: pino({ level: 'silent' }),
    hub: {
      jwt: { key: SECRET },
      subscriptions: options.subscriptions ?? true,
      ...(options.path !== undefined ? { path: options.path } : {}),
    },
  });
}

interface Verdict {
  ok: boolean;
  matches?: boolean;
  publish?: string[];
  status?: number;
  code?: string;
}
type Verdicts = { publisher: Verdict; subscriber: Verdict; console: boolean; decoded: boolean };

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

describe('web console routes', () => {
  it("with the hub at / and at /hub, the subscriptions path the console uses is the hub's", async (t) => {
    const token = await mintToken({ subscribe: ['*'] }, { secret: SECRET });
    for (const path of ['/', '/hub']) {
      const server = await start({ path });
      t.after(() => server.close());
      const stats = await fetch(`${server.url}/ui/api/stats`, { headers: bearer(token) });
      assert.equal(stats.status, 200);
      const answer = (await stats.json()) as { hubPath: string; subscriptionsTopic: string };
      assert.equal(answer.hubPath, path);
      const listed = subscriptionsPath(answer.hubPath);
      assert.equal(listed, answer.subscriptionsTopic);
      // Resolved as the browser resolves it: on the console's own origin.
      const url = new URL(listed, `${server.url}/ui/`);
      assert.equal(url.origin, server.url);
      const res = await fetch(url, { headers: { ...bearer(token), accept: 'application/json' } });
      assert.equal(res.status, 200, `${path}: GET ${url.pathname}`);
    }
  });

  it('is 404 when off', async (t) => {
    const server = await start({ console: false });
    t.after(() => server.close());
    for (const path of ['/ui/', '/ui/console.js', '/ui/api/stats']) {
      const res = await fetch(`${server.url}${path}`);
      await res.text();
      assert.equal(res.status, 404, path);
    }
  });

  it('serves its files with the CSP, nosniff and an ETag; /ui redirects', async (t) => {
    const server = await start();
    t.after(() => server.close());
    const res = await fetch(`${server.url}/ui/`);
    const html = await res.text();
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-security-policy'), CONSOLE_CSP);
    assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
    assert.equal(res.headers.get('cache-control'), 'no-cache');
    assert.doesNotMatch(html, /<script>|<style>|style=/, 'nothing inline');
    const etag = res.headers.get('etag') ?? '';
    const again = await fetch(`${server.url}/ui/`, { headers: { 'if-none-match': etag } });
    assert.equal(again.status, 304);
    const js = await fetch(`${server.url}/ui/console.js`);
    await js.text();
    assert.match(js.headers.get('content-type') ?? '', /^text\/javascript/);
    const redirect = await fetch(`${server.url}/ui`, { redirect: 'manual' });
    assert.equal(redirect.status, 308);
    assert.equal(redirect.headers.get('location'), '/ui/');
  });

  it('its API needs a subscriber token whose grants match {hub}/subscriptions', async (t) => {
    const server = await start();
    t.after(() => server.close());
    const stats = (headers: Record<string, string> = {}) =>
      fetch(`${server.url}/ui/api/stats`, { headers }).then(async (r) => ({
        status: r.status,
        body: (await r.json()) as Record<string, unknown>,
      }));
    assert.equal((await stats()).status, 401);
    assert.equal((await stats({ authorization: 'Bearer not-a-jwt' })).body.code, 'INVALID_TOKEN');
    const forged = await mintToken({ subscribe: ['*'] }, { secret: 'another-key' });
    assert.equal((await stats(bearer(forged))).status, 401);
    const expired = await mintToken({ subscribe: ['*'], expiresIn: -60 }, { secret: SECRET });
    assert.equal((await stats(bearer(expired))).body.code, 'TOKEN_EXPIRED');
    const narrow = await mintToken({ subscribe: ['https://e.x/books/1'] }, { secret: SECRET });
    assert.equal((await stats(bearer(narrow))).status, 403);
    const publisherOnly = await mintToken({ publish: ['*'] }, { secret: SECRET });
    assert.equal((await stats(bearer(publisherOnly))).status, 403);
    const templated = await mintToken(
      { subscribe: ['/.well-known/mercure/subscriptions{/topic}{/subscriber}'] },
      { secret: SECRET },
    );
    const ok = await stats(bearer(templated));
    assert.equal(ok.status, 200);
    assert.equal(ok.body.subscriptions, true);
    assert.equal(ok.body.subscriptionsTopic, '/.well-known/mercure/subscriptions');
    assert.ok(Array.isArray(ok.body.samples));
  });

  it('check-token says what each role would get, with a bounded body', async (t) => {
    const server = await start({ subscriptions: false });
    t.after(() => server.close());
    const admin = await mintToken({ subscribe: ['*'] }, { secret: SECRET });
    const check = (body: string) =>
      fetch(`${server.url}/ui/api/check-token`, {
        method: 'POST',
        headers: { ...bearer(admin), 'content-type': 'application/json' },
        body,
      }).then(async (r) => ({ status: r.status, body: (await r.json()) as Verdicts }));
    const pub = await mintToken({ publish: ['https://e.x/{id}'] }, { secret: SECRET });
    const a = await check(JSON.stringify({ token: pub, topic: 'https://e.x/1' }));
    assert.equal(a.status, 200);
    assert.equal(a.body.publisher.ok, true);
    assert.equal(a.body.publisher.matches, true);
    assert.deepEqual(a.body.publisher.publish, ['https://e.x/{id}']);
    assert.equal(a.body.console, false);
    const b = await check(JSON.stringify({ token: pub, topic: 'https://other/1' }));
    assert.equal(b.body.publisher.matches, false);
    const expired = await mintToken({ publish: ['*'], expiresIn: -60 }, { secret: SECRET });
    const c = await check(JSON.stringify({ token: expired }));
    assert.equal(c.body.publisher.ok, false);
    assert.equal(c.body.publisher.status, 401);
    assert.equal(c.body.publisher.code, 'TOKEN_EXPIRED');
    assert.equal(c.body.decoded, true);
    const d = await check(JSON.stringify({ token: 'x'.repeat(MAX_CHECK_BODY_BYTES + 1) }));
    assert.equal(d.status, 413);
    assert.equal((await check('{')).status, 400);
    // The stats say the subscription events are off.
    const stats = await fetch(`${server.url}/ui/api/stats`, { headers: bearer(admin) });
    assert.equal(((await stats.json()) as { subscriptions: boolean }).subscriptions, false);
    const get = await fetch(`${server.url}/ui/api/check-token`, { headers: bearer(admin) });
    await get.text();
    assert.equal(get.status, 405);
  });

  it('counts publishes and deliveries in per-second samples', async () => {
    const stats = { published: 0, deliveries: 0, cutOffs: 0 };
    const hub = { stats: stats as never, subscriberCount: 2 };
    const sampler = new StatsSampler(
      {
        get stats() {
          return { ...stats } as never;
        },
        get subscriberCount() {
          return hub.subscriberCount;
        },
      },
      3,
    );
    stats.published = 2;
    stats.deliveries = 4;
    assert.deepEqual(
      { ...sampler.sample(1000), rss: 0, heapUsed: 0 },
      { t: 1000, publishes: 2, deliveries: 4, cutOffs: 0, subscribers: 2, rss: 0, heapUsed: 0 },
    );
    stats.cutOffs = 1;
    for (const t of [2000, 3000, 4000]) sampler.sample(t);
    assert.deepEqual(
      sampler.samples().map((s) => [s.t, s.cutOffs]),
      [
        [2000, 1],
        [3000, 0],
        [4000, 0],
      ],
    );
  });
});

describe('--ui', () => {
  it('auto: on in development, off with a key; on/off force it', () => {
    assert.equal(resolveServeConfig({}, {}).server.console, true);
    assert.equal(resolveServeConfig({}, { SSEHUB_JWT_KEY: 'k' }).server.console, false);
    assert.equal(resolveServeConfig({ ui: 'on' }, { SSEHUB_JWT_KEY: 'k' }).server.console, true);
    assert.equal(resolveServeConfig({}, { SSEHUB_UI: 'off' }).server.console, false);
    assert.throws(() => resolveServeConfig({ ui: 'yes' }, {}), /--ui must be one of auto, on, off/);
  });
});
