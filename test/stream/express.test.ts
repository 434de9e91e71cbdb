import http from 'node:http';
import { describe } from 'node:test';
import express from 'express';
import { createEventStream } from '../../src/stream/adapters/node.js';
import {
  itServesTheScript,
  listenForSuite,
  runScript,
  SCRIPT_OPTIONS,
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
  const base = listenForSuite(http.createServer(app), log);

  itServesTheScript(() => `${base()}/events`, log, {
    connection: 'keep-alive',
    headers: { 'x-from-middleware': 'express' },
  });
});
