// The demo page in a real browser: `ssehub serve` with its development defaults, the page at `/`
// subscribing through the hub, showing the hello and the clock.
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { launchChromium } from '../helpers/chromium.js';
import { startServe } from '../helpers/cli-process.js';

const WAIT_MS = 10_000;

it('the demo page shows the hello and the currentTime clock, through the hub', async (t) => {
  const browser = await launchChromium(t);
  if (!browser) return;
  const hub = await startServe();
  t.after(() => hub.dispose());

  const page = await browser.newPage();
  const requests: string[] = [];
  page.on('request', (req) => requests.push(req.url()));
  await page.goto(`${hub.url}/`);

  await page.waitForFunction(
    () =>
      [...document.querySelectorAll('#log [data-kind="message"]')].some((li) =>
        li.textContent?.includes('hello!'),
      ),
    undefined,
    { timeout: WAIT_MS },
  );
  const times = await page.waitForFunction(
    () => {
      const values = new Set(
        [...document.querySelectorAll('#log [data-kind="currentTime"]')].map(
          (li) => li.textContent?.match(/\d{4}-\d\d-\d\dT[\d:.]+Z/)?.[0],
        ),
      );
      values.delete(undefined);
      return values.size >= 2 ? [...values] : false;
    },
    undefined,
    { timeout: WAIT_MS, polling: 100 },
  );
  const values = (await times.jsonValue()) as string[];
  assert.ok(values.length >= 2);
  for (const v of values) assert.equal(new Date(v).toISOString(), v);
  assert.match((await page.textContent('#now')) ?? '', /^\d{4}-\d\d-\d\dT[\d:.]+Z$/);
  assert.equal(await page.getAttribute('#status', 'data-state'), 'open');
  assert.ok(
    requests.some((u) => u.includes('/.well-known/mercure?topic=')),
    `the page subscribed through the hub: ${requests.join(', ')}`,
  );
});
