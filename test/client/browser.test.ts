import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { build } from 'esbuild';
import { type Browser, chromium, type Page } from 'playwright-core';
import { CHROMIUM_ARGS, CHROMIUM_PATH, chromiumMissing } from '../helpers/chromium.js';
import {
  frame,
  type MisbehavingServer,
  startMisbehavingServer,
} from '../helpers/misbehaving-server.js';
import { within } from './support.js';

// The browser bundle in a real Chromium: proves the client needs nothing from Node. Skipped
// where no Chromium is installed, except on CI (see helpers/chromium.ts).
describe('client in a real browser', { skip: chromiumMissing() ?? false }, () => {
  let server: MisbehavingServer;
  let browser: Browser;
  let page: Page;
  let streams = 0;

  before(async () => {
    const bundle = await build({
      entryPoints: [new URL('../../src/client/browser.ts', import.meta.url).pathname],
      bundle: true,
      format: 'esm',
      platform: 'browser',
      target: 'es2022',
      minify: true,
      write: false,
    });
    const code = bundle.outputFiles[0]?.text ?? '';
    server = await startMisbehavingServer(async (conn) => {
      const path = new URL(conn.request.url, 'http://x').pathname;
      if (path === '/') return conn.reply(200, { 'content-type': 'text/html' }, '<!doctype html>');
      if (path === '/client.js') {
        return conn.reply(200, { 'content-type': 'text/javascript' }, code);
      }
      if (path !== '/events') return conn.reply(404);
      const n = ++streams;
      if (n % 2 === 0) return conn.reply(204);
      await conn.open();
      const seen = `${conn.request.headers['x-token'] ?? '-'} ${conn.request.headers['last-event-id'] ?? '-'}`;
      await conn.writeSplit(`${frame(String(n), `é ${seen}`)}`, [3, 12, 13]);
      await conn.end();
    });
    browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
    page = await browser.newPage();
    await page.goto(`${server.origin}/`);
  });

  after(async () => {
    await browser?.close();
    await server?.close();
  });

  it('runs subscribe() with headers and resumes with Last-Event-ID', async () => {
    const result = page.evaluate(async () => {
      const client = await import('/client.js' as string);
      const out: string[] = [];
      const sub = client.subscribe('/events', {
        headers: { 'x-token': 'abc' },
        lastEventId: 'start',
        initialDelayMs: 1,
      });
      for await (const event of sub) out.push(`${event.lastEventId}: ${event.data}`);
      return out;
    });
    // Streams 1 and 3 deliver, 2 and 4 answer 204 (which ends the iteration).
    const events = await within(result, 'the browser loop');
    assert.equal(events.length, 1);
    assert.equal(events[0], '1: é abc start');
    const resumes = server.requests
      .filter((r) => r.url.startsWith('/events'))
      .map((r) => [r.headers['x-token'], r.headers['last-event-id']]);
    assert.deepEqual(resumes, [
      ['abc', 'start'],
      ['abc', '1'],
    ]);
  });

  it('runs the EventSource class: MessageEvent, readyState, close()', async () => {
    const result = page.evaluate(async () => {
      const client = await import('/client.js' as string);
      const es = new client.EventSource('/events', { initialDelayMs: 1 });
      const message = await new Promise<MessageEvent>((resolve) => {
        es.onmessage = resolve;
      });
      const state = es.readyState;
      es.close();
      return {
        isMessageEvent: message instanceof MessageEvent,
        data: message.data as string,
        origin: message.origin,
        state,
        closed: es.readyState,
      };
    });
    const out = await within(result, 'the browser EventSource');
    assert.equal(out.isMessageEvent, true);
    assert.match(out.data, /^é - -$/);
    assert.equal(out.origin, server.origin);
    assert.equal(out.state, 1);
    assert.equal(out.closed, 2);
  });
});
