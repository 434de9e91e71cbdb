import http from 'node:http';
import { after, before, describe, it } from 'node:test';
import express from 'express';
import { createEventStream } from '../../src/stream/adapters/node.js';
import { listen, openSse } from '../helpers/sse-client.js';
import {
  checkWithEventSource,
  checkWithParser,
  runScript,
  SCRIPT_OPTIONS,
  SENT_LAST_EVENT_ID,
  StreamLog,
} from './fixtures/scenario.js';

describe('EventStream in Express', () => {
  const log = new StreamLog();
  const app = express();
  // Middleware headers (CORS and the like) must survive into the event stream.
  app.use((_req, res, next) => {
    res.setHeader('x-from-middleware', 'express');
    next();
  });
  app.get('/events', (req, res) => {
    runScript(createEventStream(req, res, SCRIPT_OPTIONS), log);
  });
  const server = http.createServer(app);
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
      headers: { 'x-from-middleware': 'express' },
    });
  });

  it('serves the scripted stream to the eventsource package', async () => {
    await checkWithEventSource(`${base}/events`, log);
  });
});
