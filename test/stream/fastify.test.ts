import { after, before, describe, it } from 'node:test';
import Fastify from 'fastify';
import { fastifyEventStream } from '../../src/stream/adapters/fastify.js';
import { openSse } from '../helpers/sse-client.js';
import {
  checkWithEventSource,
  checkWithParser,
  runScript,
  SCRIPT_OPTIONS,
  SENT_LAST_EVENT_ID,
  StreamLog,
} from './fixtures/scenario.js';

describe('EventStream in Fastify', () => {
  const log = new StreamLog();
  const app = Fastify({ forceCloseConnections: true });
  app.addHook('onRequest', async (_request, reply) => {
    reply.header('x-from-fastify', 'fastify');
  });
  app.get('/events', (request, reply) => {
    runScript(fastifyEventStream(request, reply, SCRIPT_OPTIONS), log);
  });
  let base = '';
  before(async () => {
    base = await app.listen({ port: 0, host: '127.0.0.1' });
  });
  after(async () => {
    log.closeAll();
    await app.close();
  });

  it('serves the scripted stream to our parser', async () => {
    const conn = await openSse(`${base}/events`, {
      headers: { 'last-event-id': SENT_LAST_EVENT_ID },
    });
    await checkWithParser(conn, log, {
      connection: 'keep-alive',
      headers: { 'x-from-fastify': 'fastify' },
    });
  });

  it('serves the scripted stream to the eventsource package', async () => {
    await checkWithEventSource(`${base}/events`, log);
  });
});
