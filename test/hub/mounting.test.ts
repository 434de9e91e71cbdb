import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import http2 from 'node:http2';
import { describe, it } from 'node:test';
import { EventSource } from 'eventsource';
import express from 'express';
import Fastify from 'fastify';
import Koa from 'koa';
import { createHub } from '../../src/hub/create-hub.js';
import type { Hub } from '../../src/hub/types.js';
import {
  getText,
  mintTestToken,
  publishOk,
  silentLogger,
  subscribeUrl,
  TEST_SECRET,
} from '../helpers/hub-server.js';
import { listen, openSse, openSseH2 } from '../helpers/sse-client.js';

const TOPIC = 'https://example.com/mounted/{id}';

function newHub(): Hub {
  return createHub({ logger: silentLogger(), jwt: { key: TEST_SECRET } });
}

async function closeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

/** A real subscriber (token in the header) and a real HTTP publish through the mounted hub. */
async function roundTrip(hubUrl: string): Promise<void> {
  const token = await mintTestToken({ subscribe: [TOPIC] });
  const conn = await openSse(subscribeUrl(hubUrl, [TOPIC]), {
    headers: { authorization: `Bearer ${token}` },
  });
  try {
    assert.equal(conn.status, 200);
    assert.equal(conn.headers['content-type'], 'text/event-stream');
    const publisher = await mintTestToken({ publish: [TOPIC] });
    const id = await publishOk(
      hubUrl,
      { topic: 'https://example.com/mounted/1', data: 'first\nsecond', private: 'on', type: 'x' },
      publisher,
    );
    const [event] = await conn.waitForEvents(1);
    assert.deepEqual(event, { type: 'x', data: 'first\nsecond', lastEventId: id });
    // Errors come from the hub, not from the framework.
    const missing = await getText(hubUrl, { authorization: `Bearer ${token}` });
    assert.equal(missing.status, 400);
    assert.match(missing.body, /At least one topic/);
  } finally {
    conn.close();
  }
}

describe('mounting', () => {
  it('node:http, passing other paths to next', async () => {
    const hub = newHub();
    const server = createServer((req, res) =>
      hub.handler(req, res, () => {
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.end('app');
      }),
    );
    const origin = await listen(server);
    try {
      await roundTrip(`${origin}/.well-known/mercure`);
      assert.equal((await getText(`${origin}/other`)).body, 'app');
    } finally {
      await hub.shutdown();
      await closeServer(server);
    }
  });

  it('node:http without next answers 404 for other paths', async () => {
    const hub = newHub();
    const server = createServer((req, res) => hub.handler(req, res));
    const origin = await listen(server);
    try {
      assert.equal((await getText(`${origin}/other`)).status, 404);
      assert.equal((await getText(`${origin}/.well-known/mercure/nope`)).status, 404);
    } finally {
      await hub.shutdown();
      await closeServer(server);
    }
  });

  it('Express (app.use)', async () => {
    const hub = newHub();
    const app = express();
    app.use(hub.handler);
    app.get('/hello', (_req, res) => {
      res.send('express');
    });
    const server = createServer(app);
    const origin = await listen(server);
    try {
      await roundTrip(`${origin}/.well-known/mercure`);
      assert.equal((await getText(`${origin}/hello`)).body, 'express');
    } finally {
      await hub.shutdown();
      await closeServer(server);
    }
  });

  it('Express with a body parser that already read the form', async () => {
    const hub = newHub();
    const app = express();
    app.use(express.urlencoded({ extended: false }));
    app.use(hub.handler);
    const server = createServer(app);
    const origin = await listen(server);
    try {
      await roundTrip(`${origin}/.well-known/mercure`);
    } finally {
      await hub.shutdown();
      await closeServer(server);
    }
  });

  it('Koa (ctx.respond = false)', async () => {
    const hub = newHub();
    const app = new Koa();
    app.use(async (ctx, next) => {
      if (!ctx.path.startsWith('/.well-known/mercure')) return next();
      ctx.respond = false;
      hub.handler(ctx.req, ctx.res);
    });
    app.use((ctx) => {
      ctx.body = 'koa';
    });
    const server = createServer(app.callback());
    const origin = await listen(server);
    try {
      await roundTrip(`${origin}/.well-known/mercure`);
      assert.equal((await getText(`${origin}/hello`)).body, 'koa');
    } finally {
      await hub.shutdown();
      await closeServer(server);
    }
  });

  it('Fastify (reply.hijack())', async () => {
    const hub = newHub();
    const app = Fastify();
    // Leave the publish body unread for the hub, which reads and bounds it itself.
    app.addContentTypeParser('application/x-www-form-urlencoded', (_req, _payload, done) =>
      done(null, undefined),
    );
    const mount = (
      request: { raw: Parameters<Hub['handler']>[0] },
      reply: { raw: Parameters<Hub['handler']>[1]; hijack(): void },
    ) => {
      reply.hijack();
      hub.handler(request.raw, reply.raw);
    };
    app.all('/.well-known/mercure', mount);
    app.all('/.well-known/mercure/*', mount);
    app.get('/hello', async () => 'fastify');
    await app.listen({ port: 0, host: '127.0.0.1' });
    const address = app.server.address() as { port: number };
    const origin = `http://127.0.0.1:${address.port}`;
    try {
      await roundTrip(`${origin}/.well-known/mercure`);
      assert.equal((await getText(`${origin}/hello`)).body, 'fastify');
    } finally {
      await hub.shutdown();
      app.server.closeAllConnections();
      await app.close();
    }
  });

  it('node:http2 (compatibility API, cleartext)', async () => {
    const hub = newHub();
    const server = http2.createServer((req, res) =>
      hub.handler(req as unknown as IncomingMessage, res as unknown as ServerResponse),
    );
    const origin = await listen(server);
    const token = await mintTestToken({ subscribe: [TOPIC] });
    const conn = await openSseH2(
      origin,
      `/.well-known/mercure?topic=${encodeURIComponent(TOPIC)}`,
      {
        headers: { authorization: `Bearer ${token}` },
      },
    );
    try {
      assert.equal(conn.status, 200);
      assert.equal(conn.headers['content-type'], 'text/event-stream');
      // HTTP/2 forbids connection-specific headers.
      assert.equal(conn.headers.connection, undefined);
      const id = await hub.publish({
        topics: ['https://example.com/mounted/3'],
        data: 'h2',
        private: true,
      });
      const [event] = await conn.waitForEvents(1);
      assert.deepEqual(event, { type: 'message', data: 'h2', lastEventId: id });
    } finally {
      conn.close();
      await hub.shutdown();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it('serves the eventsource package (v4) with an Authorization header via custom fetch', async () => {
    const hub = newHub();
    const server = createServer((req, res) => hub.handler(req, res));
    const origin = await listen(server);
    const token = await mintTestToken({ subscribe: [TOPIC] });
    const source = new EventSource(subscribeUrl(`${origin}/.well-known/mercure`, [TOPIC]), {
      fetch: (input, init) =>
        fetch(input, {
          ...init,
          headers: { ...init.headers, authorization: `Bearer ${token}` },
        }),
    });
    try {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('not open within 10 s')), 10_000);
        source.onopen = () => {
          clearTimeout(timer);
          resolve();
        };
        source.onerror = (err) => {
          clearTimeout(timer);
          reject(new Error(`EventSource error: ${err.message}`));
        };
      });
      const received = new Promise<MessageEvent>((resolve) => {
        source.addEventListener('book', (event) => resolve(event));
      });
      const id = await publishOk(`${origin}/.well-known/mercure`, {
        topic: 'https://example.com/mounted/2',
        data: '{"title":"Dune"}',
        private: 'on',
        type: 'book',
      });
      let timer: NodeJS.Timeout | undefined;
      const event = await Promise.race([
        received,
        new Promise<never>((_resolve, reject) => {
          timer = setTimeout(() => reject(new Error('no event within 10 s')), 10_000);
        }),
      ]).finally(() => clearTimeout(timer));
      assert.equal(event.data, '{"title":"Dune"}');
      assert.equal(event.lastEventId, id);
    } finally {
      source.close();
      await hub.shutdown();
      await closeServer(server);
    }
  });
});
