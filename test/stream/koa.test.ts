import http from 'node:http';
import { after, before, describe, it } from 'node:test';
import Koa from 'koa';
import { koaEventStream } from '../../src/stream/adapters/koa.js';
import { listen, openSse } from '../helpers/sse-client.js';
import {
  checkWithEventSource,
  checkWithParser,
  runScript,
  SCRIPT_OPTIONS,
  SENT_LAST_EVENT_ID,
  StreamLog,
} from './fixtures/scenario.js';

describe('EventStream in Koa', () => {
  const log = new StreamLog();
  const app = new Koa();
  app.use(async (ctx, next) => {
    ctx.set('x-from-koa', 'koa');
    await next();
  });
  app.use((ctx) => {
    if (ctx.path !== '/events') return;
    // The middleware returns at once; the stream lives on because Koa no longer responds.
    runScript(koaEventStream(ctx, SCRIPT_OPTIONS), log);
  });
  const server = http.createServer(app.callback());
  let base = '';
  before(async () => {
    base = await listen(server);
  });
  after(() => {
    log.closeAll();
    server.closeAllConnections();
    server.close();
  });

  it('serves the scripted stream to our parser', async () => {
    const conn = await openSse(`${base}/events`, {
      headers: { 'last-event-id': SENT_LAST_EVENT_ID },
    });
    await checkWithParser(conn, log, {
      connection: 'keep-alive',
      headers: { 'x-from-koa': 'koa' },
    });
  });

  it('serves the scripted stream to the eventsource package', async () => {
    await checkWithEventSource(`${base}/events`, log);
  });
});
