import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import { startServer } from '../../src/server/index.js';

const SECRET = 'routing-test-secret-0123456789abcdef';

async function start(path: string) {
  return startServer({
    port: 0,
    host: '127.0.0.1',
    demo: false,
    metrics: true,
    logger: pino({ level: 'silent' }),
    hub: { jwt: { key: SECRET }, anonymous: true, path },
  });
}

/** Opens a subscription, checks it is an event stream, and drops it. */
async function subscribes(url: string): Promise<boolean> {
  const controller = new AbortController();
  const res = await fetch(url, { signal: controller.signal });
  const ok = res.status === 200 && res.headers.get('content-type') === 'text/event-stream';
  controller.abort();
  await res.body?.cancel().catch(() => {});
  return ok;
}

describe('startServer routing with the hub path', () => {
  it('a hub at / does not shadow /healthz, /readyz and /metrics', async (t) => {
    const server = await start('/');
    t.after(() => server.close());
    for (const path of ['/healthz', '/readyz', '/metrics']) {
      const res = await fetch(`${server.url}${path}`);
      await res.text();
      assert.equal(res.status, 200, path);
    }
    assert.ok(await subscribes(`${server.url}/?topic=${encodeURIComponent('https://e.x/t')}`));
    const res = await fetch(`${server.url}/nothing-here`);
    await res.text();
    assert.equal(res.status, 404);
  });

  it('matches the hub path on a segment boundary', async (t) => {
    const server = await start('/hub');
    t.after(() => server.close());
    assert.ok(await subscribes(`${server.url}/hub?topic=${encodeURIComponent('https://e.x/t')}`));
    const beside = await fetch(`${server.url}/hubx?topic=x`);
    await beside.text();
    assert.equal(beside.status, 404);
    const health = await fetch(`${server.url}/healthz`);
    await health.text();
    assert.equal(health.status, 200);
  });

  it('serves the protected resource metadata outside the hub path (RFC 9728)', async (t) => {
    const server = await start('/hub');
    t.after(() => server.close());
    const res = await fetch(`${server.url}/.well-known/oauth-protected-resource/hub`);
    assert.equal(res.status, 200);
    assert.equal((await res.json()).resource, 'https://localhost/hub');
    const other = await fetch(`${server.url}/.well-known/oauth-protected-resource/elsewhere`);
    await other.text();
    assert.equal(other.status, 404);
  });
});
