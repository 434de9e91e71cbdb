// The web console in a real browser: `ssehub serve --subscriptions --ui on` with a key, the page at
// /ui/ refused without a token, then logged in: a publish from the form reaches the subscribe pane
// and moves the counters, a second browser's subscription shows in the live list, and the token
// helper says why a token is refused. Screenshots go to test-artifacts/console/ for review.
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { it } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { mintToken } from '../../src/hub/auth/token.js';
import { CONSOLE_CSP } from '../../src/server/console/index.js';
import { launchChromium } from '../helpers/chromium.js';
import { cliEnv, startServe } from '../helpers/cli-process.js';

const SECRET = 'console-test-secret';
const WAIT_MS = 10_000;
const ARTIFACTS = fileURLToPath(new URL('../../test-artifacts/console/', import.meta.url));

async function shot(page: Page, name: string): Promise<void> {
  mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: `${ARTIFACTS}${name}.png`, fullPage: true });
}

/** Console errors and CSP violations of `page`: the console must cause none. */
function watchErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('console', (msg) => {
    if (msg.type() === 'error' && !/status of 40[13]/.test(msg.text())) errors.push(msg.text());
  });
  page.on('pageerror', (err) => errors.push(err.message));
  return errors;
}

async function login(page: Page, token: string): Promise<void> {
  await page.fill('#login-token', token);
  await page.click('#login-button');
  await page.waitForSelector('#session[data-state="in"]', { timeout: WAIT_MS });
  await page.waitForSelector('#live[data-state="ok"]', { timeout: WAIT_MS });
}

it('the console: refused without a token; publish, subscribe, live list and counters with one', async (t) => {
  const browser = await launchChromium(t);
  if (!browser) return;
  const hub = await startServe(
    ['--subscriptions', '--ui', 'on', '--no-demo'],
    cliEnv({ SSEHUB_JWT_KEY: SECRET }),
  );
  t.after(() => hub.dispose());
  const consoleToken = await mintToken({ publish: ['*'], subscribe: ['*'] }, { secret: SECRET });

  const context = await browser.newContext({ viewport: { width: 1280, height: 1000 } });
  const page = await context.newPage();
  const errors = watchErrors(page);
  const requests: string[] = [];
  page.on('request', (req) => requests.push(req.url()));
  const response = await page.goto(`${hub.url}/ui/`);
  assert.equal(response?.status(), 200);
  assert.equal(response?.headers()['content-security-policy'], CONSOLE_CSP);
  assert.equal(response?.headers()['x-content-type-options'], 'nosniff');

  // No token: both data panels show the refusal the server sent.
  await page.waitForSelector('#live[data-state="refused"]', { timeout: WAIT_MS });
  await page.waitForSelector('#subscriptions[data-state="refused"]', { timeout: WAIT_MS });
  assert.match((await page.textContent('#live .refusal')) ?? '', /refused \(401 UNAUTHORIZED\)/);
  assert.match((await page.textContent('#subscriptions .refusal')) ?? '', /refused \(401/);
  assert.equal(await page.textContent('#count-publishes'), '–');
  await shot(page, '01-refused-without-token');

  await login(page, consoleToken);
  await page.waitForSelector('#subscriptions[data-state="ok"]', { timeout: WAIT_MS });
  await page.waitForFunction(() => document.querySelectorAll('#charts figure').length === 5, {
    timeout: WAIT_MS,
  });
  const before = Number(await page.textContent('#count-publishes'));

  // The subscribe pane on a topic, then a publish from the form.
  await page.fill('#sub-selector', 'https://example.com/books/{id}');
  await page.click('#sub-open');
  await page.waitForSelector('#sub-state[data-state="open"]', { timeout: WAIT_MS });
  await page.fill('#pub-topics', 'https://example.com/books/1');
  await page.fill('#pub-data', '{"title":"Dune"}');
  await page.fill('#pub-type', 'book');
  await page.fill('#pub-id', 'urn:example:dune');
  await page.click('#pub-send');
  await page.waitForSelector('#pub-result[data-state="ok"]', { timeout: WAIT_MS });
  assert.equal(await page.textContent('#pub-result'), 'published urn:example:dune');
  await page.waitForFunction(
    () => document.querySelector('#sub-events')?.textContent?.includes('{"title":"Dune"}'),
    undefined,
    { timeout: WAIT_MS },
  );
  const line = (await page.textContent('#sub-events li')) ?? '';
  assert.match(line, /book #urn:example:dune/);
  await page.waitForFunction(
    (n) => Number(document.querySelector('#count-publishes')?.textContent) > n,
    before,
    { timeout: WAIT_MS },
  );
  await page.waitForFunction(
    () => Number(document.querySelector('#count-deliveries')?.textContent) >= 1,
    undefined,
    { timeout: WAIT_MS },
  );
  // The pane's own subscription is in the live list.
  await page.waitForSelector('#subs-list li[data-match="https://example.com/books/{id}"]', {
    timeout: WAIT_MS,
  });
  await shot(page, '02-published-and-received');

  // A second browser (its own context: its own sessionStorage) subscribes elsewhere.
  const other = await browser.newContext();
  const second = await other.newPage();
  await second.goto(`${hub.url}/ui/`);
  await login(second, consoleToken);
  await second.fill('#sub-selector', 'https://example.com/second-browser');
  await second.click('#sub-open');
  await second.waitForSelector('#sub-state[data-state="open"]', { timeout: WAIT_MS });
  const entry = '#subs-list li[data-match="https://example.com/second-browser"]';
  await page.waitForSelector(entry, { timeout: WAIT_MS });
  assert.equal(await page.textContent(`${entry} .count`), '1');
  await page.waitForFunction(
    () => Number(document.querySelector('#count-subscribers')?.textContent) >= 4,
    undefined,
    { timeout: WAIT_MS },
  );
  await shot(page, '03-second-browser-in-live-list');

  // It leaves: the entry goes.
  await second.click('#sub-close');
  await page.waitForSelector(entry, { state: 'detached', timeout: WAIT_MS });
  await other.close();

  // The token helper: a token signed with another key is decoded, and refused by the hub.
  const forged = await mintToken({ subscribe: ['https://example.com/x'] }, { secret: 'wrong' });
  await page.fill('#token-input', forged);
  await page.fill('#token-topic', 'https://example.com/x');
  await page.click('#token-inspect');
  await page.waitForSelector('#token-report .verdict[data-role="subscriber"]', {
    timeout: WAIT_MS,
  });
  const report = (await page.textContent('#token-report')) ?? '';
  assert.match(report, /draft-07 mercure claim/);
  assert.match(report, /subscribe: https:\/\/example\.com\/x/);
  assert.match(report, /subscriber: refused 401 INVALID_TOKEN/);
  assert.match(report, /console: no access/);
  await page.locator('#token').scrollIntoViewIfNeeded();
  await shot(page, '04-token-helper');

  // A good token without the grant the topic needs: accepted, but 403 for that topic.
  const narrow = await mintToken({ subscribe: ['https://example.com/y'] }, { secret: SECRET });
  await page.fill('#token-input', narrow);
  await page.click('#token-inspect');
  await page.waitForFunction(
    () => document.querySelector('#token-report')?.textContent?.includes('403 FORBIDDEN'),
    undefined,
    { timeout: WAIT_MS },
  );

  assert.deepEqual(errors, []);
  const origin = new URL(hub.url).origin;
  assert.deepEqual(
    requests.filter((u) => !u.startsWith(origin) && !u.startsWith('data:')),
    [],
    'no request left the hub',
  );
});

it('the console with a token lacking the subscriptions grant: refused 403', async (t) => {
  const browser = await launchChromium(t);
  if (!browser) return;
  const hub = await startServe(
    ['--subscriptions', '--ui', 'on', '--no-demo'],
    cliEnv({ SSEHUB_JWT_KEY: SECRET }),
  );
  t.after(() => hub.dispose());
  const token = await mintToken({ subscribe: ['https://example.com/books/1'] }, { secret: SECRET });
  const page = await browser.newPage();
  await page.goto(`${hub.url}/ui/`);
  await page.fill('#login-token', token);
  await page.click('#login-button');
  await page.waitForSelector('#session[data-state="refused"]', { timeout: WAIT_MS });
  await page.waitForSelector('#live[data-state="refused"]', { timeout: WAIT_MS });
  assert.match((await page.textContent('#live .refusal')) ?? '', /403 FORBIDDEN/);
  await shot(page, '05-refused-without-grant');
});
