import assert from 'node:assert/strict';
import http2 from 'node:http2';
import { after, before, describe, it } from 'node:test';
import { eventStreamFromHttp2Stream } from '../../src/stream/adapters/http2.js';
import { createEventStream } from '../../src/stream/adapters/node.js';
import { listen, openSseH2 } from '../helpers/sse-client.js';
import {
  checkWithParser,
  runScript,
  SCRIPT_OPTIONS,
  SENT_LAST_EVENT_ID,
  StreamLog,
} from './fixtures/scenario.js';

function closeServer(server: http2.Http2Server, log: StreamLog): Promise<void> {
  log.closeAll();
  return new Promise((resolve) => server.close(() => resolve()));
}

describe('EventStream over node:http2, compatibility API (h2c)', () => {
  const log = new StreamLog();
  const server = http2.createServer((req, res) => {
    if (req.url === '/close') {
      const s = createEventStream(req, res, { heartbeatMs: 0 });
      log.add(s);
      s.send({ data: 'only' });
      s.close();
      return;
    }
    runScript(createEventStream(req, res, SCRIPT_OPTIONS), log);
  });
  let base = '';
  before(async () => {
    base = await listen(server);
  });
  after(() => closeServer(server, log));

  it('serves the scripted stream without a Connection header', async () => {
    const conn = await openSseH2(base, '/events', {
      headers: { 'last-event-id': SENT_LAST_EVENT_ID },
    });
    try {
      await checkWithParser(conn, log, { connection: 'absent' });
    } finally {
      conn.session.close();
    }
  });

  it('ends the HTTP/2 stream on server close', async () => {
    const conn = await openSseH2(base, '/close');
    try {
      await conn.waitForEnd();
      assert.deepEqual(
        conn.events.map((e) => e.data),
        ['only'],
      );
      assert.equal(log.reasons.get(log.streams.at(-1) as never), 'server');
    } finally {
      conn.session.close();
    }
  });
});

describe('EventStream over node:http2, core API (h2c)', () => {
  const log = new StreamLog();
  const server = http2.createServer();
  server.on('stream', (stream, headers) => {
    if (headers[':path'] === '/close') {
      const s = eventStreamFromHttp2Stream(stream, headers, { heartbeatMs: 0 });
      log.add(s);
      s.send({ data: 'only' });
      s.close();
      return;
    }
    runScript(eventStreamFromHttp2Stream(stream, headers, SCRIPT_OPTIONS), log);
  });
  let base = '';
  before(async () => {
    base = await listen(server);
  });
  after(() => closeServer(server, log));

  it('serves the scripted stream without a Connection header', async () => {
    const conn = await openSseH2(base, '/events', {
      headers: { 'last-event-id': SENT_LAST_EVENT_ID },
    });
    try {
      await checkWithParser(conn, log, { connection: 'absent' });
    } finally {
      conn.session.close();
    }
  });

  it('ends the HTTP/2 stream on server close', async () => {
    const conn = await openSseH2(base, '/close');
    try {
      await conn.waitForEnd();
      assert.deepEqual(
        conn.events.map((e) => e.data),
        ['only'],
      );
      assert.equal(log.reasons.get(log.streams.at(-1) as never), 'server');
    } finally {
      conn.session.close();
    }
  });

  it('keeps many streams on one session, closing each on its own', async () => {
    const first = log.streams.length;
    const session = http2.connect(base);
    try {
      const reqs = [1, 2, 3].map(() => session.request({ ':path': '/events' }));
      await log.waitFor(() => log.streams.length === first + 3, '3 streams');
      reqs[1]?.close(http2.constants.NGHTTP2_CANCEL);
      assert.equal(await log.closedReason(first + 2), 'client');
      assert.equal(log.streams[first]?.closed, false);
      assert.equal(log.streams[first + 2]?.closed, false);
    } finally {
      session.destroy();
    }
    assert.equal(await log.closedReason(first + 1), 'client');
    assert.equal(await log.closedReason(first + 3), 'client');
  });
});
