import assert from 'node:assert/strict';
import http from 'node:http';
import { describe, it } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { isSseHubError } from '../../src/errors.js';
import { encodeEvent } from '../../src/protocol/encoder.js';
import { DETACH_EVENT } from '../../src/stream/adapters/detach.js';
import { createEventStream } from '../../src/stream/adapters/node.js';
import type { EventStream } from '../../src/stream/event-stream.js';
import { heartbeats } from '../../src/stream/heartbeat.js';
import type { EventStreamOptions } from '../../src/stream/types.js';
import { eventually, openSse } from '../helpers/sse-client.js';
import { RawConnection } from '../server/raw-socket.js';
import {
  itServesTheScript,
  listenForSuite,
  runScript,
  SCRIPT_OPTIONS,
  StreamLog,
} from './fixtures/scenario.js';

type Route = (req: http.IncomingMessage, res: http.ServerResponse) => void;

/**
 * A node:http server for one suite that answers each path from `routes` (404 otherwise) and
 * counts the requests it parsed; `port()` once listening.
 */
function routedServer(log: StreamLog) {
  const routes = new Map<string, Route>();
  const counted = { requests: 0 };
  const server = http.createServer((req, res) => {
    counted.requests += 1;
    const route = routes.get(new URL(req.url ?? '/', 'http://x').pathname);
    if (route) route(req, res);
    else res.writeHead(404).end();
  });
  const base = listenForSuite(server, log);
  return { server, routes, counted, base, port: () => Number(new URL(base()).port) };
}

/** A raw HTTP/1.1 stream request. */
const streamRequest = (path: string) =>
  `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n`;

describe('EventStream over node:http', () => {
  const log = new StreamLog();
  const { routes, base } = routedServer(log);

  routes.set('/script', (req, res) => {
    runScript(createEventStream(req, res, SCRIPT_OPTIONS), log);
  });

  itServesTheScript(() => `${base()}/script`, log, { connection: 'keep-alive' });

  it('keeps headers set earlier on the response and applies status/extra headers', async () => {
    routes.set('/custom', (req, res) => {
      res.setHeader('x-earlier', 'kept');
      log.add(
        createEventStream(req, res, {
          status: 201,
          headers: { 'Cache-Control': 'no-store', 'x-multi': ['a', 'b'] },
          heartbeatMs: 0,
        }),
      );
    });
    const conn = await openSse(`${base()}/custom`);
    try {
      assert.equal(conn.status, 201);
      assert.equal(conn.headers['x-earlier'], 'kept');
      assert.equal(conn.headers['cache-control'], 'no-store');
      assert.equal(conn.headers['x-multi'], 'a, b');
      assert.equal(conn.headers['content-type'], 'text/event-stream');
      await conn.waitFor(() => conn.comments.length === 1, 'the opening comment');
      assert.equal(log.streams.at(-1)?.lastEventId, undefined);
    } finally {
      conn.close();
    }
  });

  it('writes one shared Buffer to several streams, and comments', async () => {
    const streams: EventStream[] = [];
    routes.set('/shared', (req, res) => {
      const s = createEventStream(req, res, { heartbeatMs: 0 });
      log.add(s);
      streams.push(s);
    });
    const a = await openSse(`${base()}/shared`);
    const b = await openSse(`${base()}/shared`);
    try {
      const frame = encodeEvent({ id: '7', event: 'tick', data: 'same bytes' });
      for (const s of streams) {
        assert.equal(s.write(frame), true);
        assert.equal(s.comment('two\nlines'), true);
      }
      for (const conn of [a, b]) {
        await conn.waitForEvents(1);
        await conn.waitFor(() => conn.comments.length === 3, 'the comment lines');
        assert.deepEqual(conn.events, [{ type: 'tick', data: 'same bytes', lastEventId: '7' }]);
        assert.deepEqual(conn.comments, [' ok', ' two', ' lines']);
      }
    } finally {
      a.close();
      b.close();
    }
  });

  it('ends the response on close(); later writes return false; onClose runs once', async () => {
    let stream: EventStream | undefined;
    const reasons: string[] = [];
    routes.set('/server-close', (req, res) => {
      stream = createEventStream(req, res, { heartbeatMs: 25 });
      stream.onClose((r) => reasons.push(r));
      stream.send({ data: 'bye' });
      stream.close();
      stream.close();
    });
    const registered = heartbeats.size;
    const conn = await openSse(`${base()}/server-close`);
    await conn.waitForEnd();
    assert.deepEqual(
      conn.events.map((e) => e.data),
      ['bye'],
    );
    assert.ok(stream);
    assert.deepEqual(reasons, ['server']);
    assert.equal(stream.closeReason, 'server');
    assert.equal(stream.send({ data: 'x' }), false);
    assert.equal(stream.write(encodeEvent({ data: 'x' })), false);
    assert.equal(stream.comment('x'), false);
    // Invalid input after close is not even looked at: writing after close never throws.
    assert.equal(stream.send({ id: 'a\nb' }), false);
    let late = '';
    stream.onClose((r) => {
      late = r;
    });
    assert.equal(late, 'server', 'a listener added after close runs at once');
    assert.equal(heartbeats.size, registered);
  });

  it('rejects a bad event with INVALID_EVENT_FIELD and writes nothing of it', async () => {
    let thrown: unknown;
    routes.set('/bad-event', (req, res) => {
      const s = createEventStream(req, res, { heartbeatMs: 0 });
      log.add(s);
      try {
        s.send({ id: 'ok', data: 'a', event: 'bad\nname' });
      } catch (err) {
        thrown = err;
      }
      s.send({ data: 'after' });
      s.close();
    });
    const conn = await openSse(`${base()}/bad-event`);
    await conn.waitForEnd();
    assert.ok(isSseHubError(thrown, 'INVALID_EVENT_FIELD'));
    assert.deepEqual(
      conn.events.map((e) => [e.data, e.lastEventId]),
      [['after', '']],
    );
  });

  it('throws STREAM_HEADERS_SENT on a response that already started', async () => {
    let thrown: unknown;
    routes.set('/started', (req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('x');
      try {
        createEventStream(req, res);
      } catch (err) {
        thrown = err;
      }
      res.end();
    });
    const res = await fetch(`${base()}/started`);
    assert.equal(await res.text(), 'x');
    assert.ok(isSseHubError(thrown, 'STREAM_HEADERS_SENT'));
  });

  it('throws INVALID_OPTION for bad options before touching the response', async () => {
    const bad: EventStreamOptions[] = [
      { heartbeatMs: 5 },
      { heartbeatMs: -1 },
      { heartbeatMs: 1.5 },
      { maxQueueBytes: 0 },
      { retry: -1 },
      { status: 101 },
      { onOverflow: 'drop' as 'close' },
      { headers: { 'x-evil': 'a\r\nset-cookie: b' } },
      { headers: { 'bad name': 'x' } },
      { detach: 'yes' as unknown as boolean },
    ];
    const failures: unknown[] = [];
    let sentBefore = true;
    routes.set('/bad-options', (req, res) => {
      for (const options of bad) {
        try {
          createEventStream(req, res, options);
        } catch (err) {
          failures.push(err);
        }
      }
      sentBefore = res.headersSent;
      res.writeHead(204).end();
    });
    const res = await fetch(`${base()}/bad-options`);
    assert.equal(res.status, 204);
    assert.equal(sentBefore, false);
    assert.equal(failures.length, bad.length);
    for (const err of failures) assert.ok(isSseHubError(err, 'INVALID_OPTION'), String(err));
  });

  it('refuses header values Node would reject, before writing anything', async () => {
    const badValues = ['a\u0001b', 'del\u007f', 'esc\u001b[0m', 'euro \u20ac', 'emoji 😀'];
    const failures: unknown[] = [];
    let sentBefore = true;
    let accepted: EventStream | undefined;
    routes.set('/bad-header-values', (req, res) => {
      for (const value of badValues) {
        for (const headers of [{ 'x-bad': value }, { 'x-bad': ['fine', value] }]) {
          try {
            createEventStream(req, res, { headers });
          } catch (err) {
            failures.push(err);
          }
        }
      }
      sentBefore = res.headersSent;
      // Tab and Latin-1 (U+00E9) are what Node accepts.
      accepted = createEventStream(req, res, { headers: { 'x-ok': 'caf\u00e9\tau lait' } });
      accepted.close();
    });
    const res = await fetch(`${base()}/bad-header-values`);
    await res.text();
    assert.equal(sentBefore, false);
    assert.equal(failures.length, badValues.length * 2);
    for (const err of failures) assert.ok(isSseHubError(err, 'INVALID_OPTION'), String(err));
    assert.equal(res.status, 200);
    assert.equal(accepted?.closeReason, 'server');
  });

  it('closes at once with reason client when the client left before the stream was made', async () => {
    const made: EventStream[] = [];
    let left!: () => void;
    const clientLeft = new Promise<void>((resolve) => {
      left = resolve;
    });
    routes.set('/gone', (req, res) => {
      res.on('close', () => {
        const s = createEventStream(req, res, { heartbeatMs: 20 });
        made.push(s);
        left();
      });
    });
    const registered = heartbeats.size;
    const req = http.get(`${base()}/gone`, { agent: false });
    req.on('error', () => {});
    // Drop the request as soon as it is on the wire; the server sees its response close.
    req.on('finish', () => req.destroy());
    await clientLeft;
    assert.equal(made.length, 1);
    assert.equal(made[0]?.closed, true);
    assert.equal(made[0]?.closeReason, 'client');
    assert.equal(heartbeats.size, registered);
  });
});

describe('EventStream over node:http, on the wire', () => {
  const log = new StreamLog();
  const { server, routes, port } = routedServer(log);
  const request = streamRequest;

  it('sends a close-delimited body, frames straight after the head, and closes at the end', async () => {
    let stream: EventStream | undefined;
    routes.set('/raw', (req, res) => {
      res.setHeader('transfer-encoding', 'chunked'); // a middleware's framing: must not apply
      stream = createEventStream(req, res, { heartbeatMs: 0 });
      log.add(stream);
    });
    const conn = await RawConnection.open(port());
    try {
      conn.write(request('/raw'));
      await conn.waitFor(() => conn.received.includes('\r\n\r\n: ok\n\n'), 'the head and opening');
      const head = conn.received.slice(0, conn.received.indexOf('\r\n\r\n')).toLowerCase();
      assert.match(head, /^http\/1\.1 200/);
      assert.doesNotMatch(head, /transfer-encoding|content-length/);
      assert.match(head, /connection: keep-alive/);
      stream?.write(encodeEvent({ id: '1', data: 'one' }));
      stream?.write(encodeEvent({ id: '2', data: 'two' }));
      await conn.waitFor(() => conn.received.endsWith('id: 2\ndata: two\n\n'), 'both frames');
      const body = conn.received.slice(conn.received.indexOf('\r\n\r\n') + 4);
      assert.equal(body, ': ok\n\nid: 1\ndata: one\n\nid: 2\ndata: two\n\n');
      stream?.close();
      // The body ends where the connection does.
      await conn.waitForClose();
    } finally {
      conn.destroy();
    }
  });

  it('keeps chunked framing through the response when a middleware wrapped its write', async () => {
    const seen: string[] = [];
    routes.set('/wrapped', (req, res) => {
      const write = res.write.bind(res) as (chunk: Uint8Array | string) => boolean;
      res.write = ((chunk: Uint8Array | string) => {
        seen.push(Buffer.from(chunk).toString('utf8'));
        return write(chunk);
      }) as typeof res.write;
      const stream = createEventStream(req, res, { heartbeatMs: 0 });
      log.add(stream);
      stream.write(encodeEvent({ id: '1', data: 'one' }));
    });
    const conn = await RawConnection.open(port());
    try {
      conn.write(request('/wrapped'));
      await conn.waitFor(() => conn.received.includes('data: one'), 'the frame');
      assert.match(conn.received.toLowerCase(), /transfer-encoding: chunked/);
      assert.deepEqual(seen, [': ok\n\n', 'id: 1\ndata: one\n\n']);
    } finally {
      conn.destroy();
    }
  });

  it('answers a stream request pipelined behind another with its own framed response', async () => {
    routes.set('/plain', (_req, res) => res.end('plain'));
    routes.set('/piped', (req, res) => {
      const stream = createEventStream(req, res, { heartbeatMs: 0 });
      log.add(stream);
      stream.write(encodeEvent({ id: 'p', data: 'after the first' }));
    });
    const conn = await RawConnection.open(port());
    try {
      conn.write(`GET /plain HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n${request('/piped')}`);
      const first = await conn.nextResponse();
      assert.equal(first.body, 'plain');
      await conn.waitFor(() => conn.received.includes('data: after the first'), 'the stream');
      const second = conn.received.slice(conn.received.indexOf('plain') + 'plain'.length);
      assert.match(second, /^HTTP\/1\.1 200/);
      assert.ok(second.indexOf(': ok') > second.indexOf('\r\n\r\n'));
    } finally {
      conn.destroy();
    }
  });

  it('detaches a stream opened synchronously by the handler without breaking the server’s connection list', async () => {
    let stream: EventStream | undefined;
    routes.set('/sync-detach', (req, res) => {
      stream = createEventStream(req, res, { heartbeatMs: 0, detach: true });
      log.add(stream);
    });
    const conn = await RawConnection.open(port());
    try {
      conn.write(request('/sync-detach'));
      await conn.waitFor(() => conn.received.includes(': ok'), 'the opening');
      await new Promise((r) => setImmediate(r));
      // Freed inside the parser's execute, the parser went back on the list without a socket.
      assert.doesNotThrow(() => server.closeIdleConnections());
      stream?.write(encodeEvent({ id: '1', data: 'still live' }));
      await conn.waitFor(() => conn.received.includes('data: still live'), 'a frame after it');
      stream?.close();
      await conn.waitForClose();
    } finally {
      conn.destroy();
    }
  });

  for (const detach of [false, true]) {
    it(`ends a stream pipelined behind another stream when the client leaves (detach: ${detach})`, async () => {
      const streams: EventStream[] = [];
      routes.set('/queued', (req, res) => {
        const stream = createEventStream(req, res, { heartbeatMs: 0, detach });
        log.add(stream);
        streams.push(stream);
      });
      const conn = await RawConnection.open(port());
      conn.write(request('/queued') + request('/queued'));
      await conn.waitFor(() => streams.length === 2, 'both requests handled');
      await conn.waitFor(() => conn.received.includes(': ok'), 'the first stream');
      conn.destroy();
      const deadline = Date.now() + 2000;
      while (!streams.every((s) => s.closed) && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 10));
      }
      // The second response never had the socket: only its request's socket tells it the client left.
      assert.deepEqual(
        streams.map((s) => s.closeReason),
        ['client', 'client'],
      );
    });
  }
});

describe('EventStream over node:http, detached', () => {
  const log = new StreamLog();
  const { routes, counted, port } = routedServer(log);
  const request = streamRequest;

  it('takes the connection over: frames flow, the response says nothing more, both are freed', async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    let stream: EventStream | undefined;
    let refs: { req: WeakRef<object>; res: WeakRef<object> } | undefined;
    const responseEvents: string[] = [];
    let detachedWith: unknown;
    let socketOf: WeakRef<object> | undefined;
    routes.set('/detached', (req, res) => {
      res.on('close', () => responseEvents.push('close'));
      res.on('finish', () => responseEvents.push('finish'));
      res.once(DETACH_EVENT, (socket: unknown) => {
        detachedWith = socket;
      });
      socketOf = new WeakRef(res.socket as object);
      stream = createEventStream(req, res, { heartbeatMs: 0, detach: true });
      log.add(stream);
      refs = { req: new WeakRef(req), res: new WeakRef(res) };
    });
    const conn = await RawConnection.open(port());
    try {
      conn.write(request('/detached'));
      await conn.waitFor(() => conn.received.includes(': ok\n\n'), 'the opening');
      // Once the parse that opened it is over.
      await eventually(() => detachedWith !== undefined, 'DETACH_EVENT');
      assert.equal(detachedWith, socketOf?.deref(), 'DETACH_EVENT carries the socket');
      // What the client sends now is no request any more: the server no longer parses it.
      conn.write(request('/detached'));
      stream?.write(encodeEvent({ id: '1', data: 'after detach' }));
      await conn.waitFor(() => conn.received.endsWith('data: after detach\n\n'), 'the frame');
      assert.equal(counted.requests, 1);
      for (let i = 0; i < 5 && (refs?.req.deref() ?? refs?.res.deref()) !== undefined; i++) {
        await new Promise((resolve) => setImmediate(resolve));
        gc();
      }
      assert.equal(refs?.req.deref(), undefined, 'the request object was freed');
      assert.equal(refs?.res.deref(), undefined, 'the response object was freed');
      stream?.close();
      await conn.waitForClose();
      assert.deepEqual(responseEvents, [], 'a detached response emits nothing');
      assert.equal(stream?.closeReason, 'server');
    } finally {
      conn.destroy();
    }
  });

  it('ends the stream when the client half-closes or leaves', async () => {
    const streams: EventStream[] = [];
    routes.set('/leave', (req, res) => {
      const s = createEventStream(req, res, { heartbeatMs: 0, detach: true });
      log.add(s);
      streams.push(s);
    });
    const halfOpen = await RawConnection.open(port(), { allowHalfOpen: true });
    const gone = await RawConnection.open(port());
    halfOpen.write(request('/leave'));
    gone.write(request('/leave'));
    await halfOpen.waitFor(() => halfOpen.received.includes(': ok'), 'the first stream');
    await gone.waitFor(() => gone.received.includes(': ok'), 'the second stream');
    halfOpen.socket.end();
    gone.destroy();
    await eventually(() => streams.length === 2 && streams.every((s) => s.closed), 'both closed');
    assert.deepEqual(
      streams.map((s) => s.closeReason),
      ['client', 'client'],
    );
    await halfOpen.waitForClose();
    halfOpen.destroy();
  });
});
