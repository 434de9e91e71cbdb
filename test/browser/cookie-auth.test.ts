// Browsers' EventSource cannot send headers: their token is the `mercureAuthorization` cookie. A
// page with the cookie receives a private update; a page without it does not.
import assert from 'node:assert/strict';
import { it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { mintToken } from '../../src/hub/auth/token.js';
import { launchChromium } from '../helpers/chromium.js';
import { cliEnv, startServe } from '../helpers/cli-process.js';

const SECRET = 'browser-cookie-test-secret-0123456789';
const TOPIC = 'https://example.com/inbox/alice';
const WAIT_MS = 10_000;

declare global {
  interface Window {
    received: string[];
    opened: boolean;
  }
}

async function openListener(browser: Browser, base: string, cookie?: string): Promise<Page> {
  const context = await browser.newContext();
  if (cookie) {
    await context.addCookies([{ name: 'mercureAuthorization', value: cookie, url: base }]);
  }
  const page = await context.newPage();
  // Any page of the hub's origin will do: the EventSource is same-origin, so the cookie goes along.
  await page.goto(`${base}/healthz`);
  await page.evaluate((topic) => {
    window.received = [];
    window.opened = false;
    const source = new EventSource(`/.well-known/mercure?topic=${encodeURIComponent(topic)}`);
    source.onopen = () => {
      window.opened = true;
    };
    source.onmessage = (event) => window.received.push(event.data);
  }, TOPIC);
  await page.waitForFunction(() => window.opened, undefined, { timeout: WAIT_MS });
  return page;
}

it('a cookie-authenticated EventSource receives a private update; one without does not', async (t) => {
  const browser = await launchChromium(t);
  if (!browser) return;
  const hub = await startServe(['--no-demo', '--anonymous'], cliEnv({ SSEHUB_JWT_KEY: SECRET }));
  t.after(() => hub.dispose());

  const reader = await mintToken({ subscribe: [TOPIC] }, { secret: SECRET });
  const withCookie = await openListener(browser, hub.url, reader);
  const withoutCookie = await openListener(browser, hub.url);

  const publisher = await mintToken({ publish: ['*'] }, { secret: SECRET });
  for (const [data, isPrivate] of [
    ['private note', true],
    ['public note', false],
  ] as const) {
    const res = await fetch(`${hub.url}/.well-known/mercure`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${publisher}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: new URLSearchParams({ topic: TOPIC, data, ...(isPrivate ? { private: 'on' } : {}) }),
    });
    assert.equal(res.status, 200, await res.text());
  }

  await withCookie.waitForFunction(() => window.received.length >= 2, undefined, {
    timeout: WAIT_MS,
  });
  assert.deepEqual(await withCookie.evaluate(() => window.received), [
    'private note',
    'public note',
  ]);
  // The public update was published second: once it arrived, the private one would have too.
  await withoutCookie.waitForFunction(() => window.received.length >= 1, undefined, {
    timeout: WAIT_MS,
  });
  assert.deepEqual(await withoutCookie.evaluate(() => window.received), ['public note']);
});
