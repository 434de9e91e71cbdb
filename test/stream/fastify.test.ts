import { after, before, describe } from 'node:test';
import Fastify from 'fastify';
import { fastifyEventStream } from '../../src/stream/adapters/fastify.js';
import { itServesTheScript, runScript, SCRIPT_OPTIONS, StreamLog } from './fixtures/scenario.js';

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

  itServesTheScript(() => `${base}/events`, log, {
    connection: 'keep-alive',
    headers: { 'x-from-fastify': 'fastify' },
  });
});
