import http from 'node:http';
import { describe } from 'node:test';
import Koa from 'koa';
import { koaEventStream } from '../../src/stream/adapters/koa.js';
import {
  itServesTheScript,
  listenForSuite,
  runScript,
  SCRIPT_OPTIONS,
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
  const base = listenForSuite(http.createServer(app.callback()), log);

  itServesTheScript(() => `${base()}/events`, log, {
    connection: 'keep-alive',
    headers: { 'x-from-koa': 'koa' },
  });
});
