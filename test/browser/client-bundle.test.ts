// The browser build of the client, as the demo server serves it (/ssehub-client.js), in headless
// Chromium: it subscribes with a header-based token (which a browser's own EventSource cannot
// send), lives through a restart of the hub, and resumes from its Last-Event-ID with nothing lost
// and nothing twice. The hub keeps its history in SQLite, so what was acknowledged survives.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { mintToken } from '../../src/hub/auth/token.js';
import { createSqliteTransport } from '../../src/transport/sqlite.js';
import { launchChromium } from '../helpers/chromium.js';
import { cliEnv, startServe } from '../helpers/cli-process.js';
import { publishOk } from '../helpers/hub-server.js';

const SECRET = 'browser-bundle-test-secret-0123456789';
const TOPIC = 'https://example.com/orders/42';

/** Publishes `data` on TOPIC through the hub at `base`; resolves with the acknowledged id. */
const publishTo = (base: string, token: string, data: string) =>
  publishOk(`${base}/.well-known/mercure`, { topic: TOPIC, data }, token);
const WAIT_MS = 15_000;
const BUNDLE = fileURLToPath(new URL('../../dist/browser/ssehub-client.js', import.meta.url));

declare global {
  interface Window {
    received: string[];
    opens: number;
    failures: string[];
  }
}

it('the served bundle subscribes with a header token and resumes across a hub restart', async (t) => {
  const browser = await launchChromium(t);
  if (!browser) return;
  // `npm test` builds the bundle first; a lone run of this file builds it here.
  if (!existsSync(BUNDLE)) {
    const built = spawnSync(process.execPath, ['scripts/build-browser.mjs'], { encoding: 'utf8' });
    assert.equal(built.status, 0, built.stderr);
  }
  const dir = mkdtempSync(join(tmpdir(), 'ssehub-bundle-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const env = cliEnv({ SSEHUB_JWT_KEY: SECRET });
  const dbPath = join(dir, 'hub.db');
  const args = ['--transport', `sqlite:${dbPath}`, '--no-anonymous'];

  let hub = await startServe(args, env);
  t.after(() => hub.dispose());
  const publisher = await mintToken({ publish: [TOPIC] }, { secret: SECRET });
  const reader = await mintToken({ subscribe: [TOPIC] }, { secret: SECRET });

  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(`${hub.url}/`);
  await page.evaluate(
    async ({ topic, token, bundle }) => {
      window.received = [];
      window.opens = 0;
      window.failures = [];
      // The bundle as the demo page loads it, from the server under test.
      const client = await import(bundle);
      const url = client.mercureSubscribeUrl(`${location.origin}/.well-known/mercure`, [topic]);
      const options: Record<string, unknown> = {
        headers: { authorization: `Bearer ${token}` },
        initialDelayMs: 50,
        maxDelayMs: 400,
      };
      // Assigned, not written in the literal: tsx would wrap a named property function in a
      // helper that does not exist in the page.
      options.onOpen = () => {
        window.opens++;
      };
      const events = client.subscribe(url, options);
      (async () => {
        try {
          for await (const event of events)
            window.received.push(`${event.lastEventId} ${event.data}`);
        } catch (err) {
          window.failures.push(String(err));
        }
      })();
    },
    { topic: TOPIC, token: reader, bundle: '/ssehub-client.js' },
  );
  await page.waitForFunction(() => window.opens === 1, undefined, { timeout: WAIT_MS });

  const before = [];
  for (const data of ['one', 'two', 'three'])
    before.push(`${await publishTo(hub.url, publisher, data)} ${data}`);
  await page.waitForFunction(() => window.received.length >= 3, undefined, { timeout: WAIT_MS });

  // A graceful stop: the stream ends and the client keeps retrying. While the hub is down, two
  // updates go straight into its history file, so only a resume from the client's Last-Event-ID
  // can deliver them, and only a correct one delivers them once and not the first three again.
  hub.kill('SIGTERM');
  assert.equal((await hub.waitForExit(WAIT_MS)).code, 0);
  const store = createSqliteTransport({ path: dbPath });
  const after = [];
  for (const data of ['four', 'five']) {
    const id = `urn:uuid:${randomUUID()}`;
    await store.publish({ id, topics: [TOPIC], data, private: false });
    after.push(`${id} ${data}`);
  }
  await store.close();
  hub = await startServe([...args, '--port', String(hub.port)], env);

  await page.waitForFunction(() => window.received.length >= 5, undefined, { timeout: WAIT_MS });
  assert.deepEqual(await page.evaluate(() => window.received), [...before, ...after]);
  assert.ok((await page.evaluate(() => window.opens)) >= 2, 'the client reconnected');
  assert.deepEqual(await page.evaluate(() => window.failures), []);
  // One more live update proves the resumed stream is live, not only replayed.
  const last = `${await publishTo(hub.url, publisher, 'six')} six`;
  await page.waitForFunction(() => window.received.length >= 6, undefined, { timeout: WAIT_MS });
  assert.deepEqual(await page.evaluate(() => window.received), [...before, ...after, last]);
});
