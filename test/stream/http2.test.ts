import assert from 'node:assert/strict';
import http2 from 'node:http2';
import { after, before, describe, it } from 'node:test';
import { eventStreamFromHttp2Stream } from '../../src/stream/adapters/http2.js';
import { createEventStream } from '../../src/stream/adapters/node.js';
import type { EventStream } from '../../src/stream/event-stream.js';
import type { EventStreamOptions } from '../../src/stream/types.js';
import { listen, openSseH2 } from '../helpers/sse-client.js';
import {
  checkWithParser,
  runScript,
  SCRIPT_OPTIONS,
  SENT_LAST_EVENT_ID,
  StreamLog,
} from './fixtures/scenario.js';

/** Both APIs' server side: `/close` sends one event and closes; other paths run the script. */
function handle(
  log: StreamLog,
  path: string | undefined,
  open: (options: EventStreamOptions) => EventStream,
): void {
  if (path === '/close') {
    const s = open({ heartbeatMs: 0 });
    log.add(s);
    s.send({ data: 'only' });
    s.close();
    return;
  }
  runScript(open(SCRIPT_OPTIONS), log);
}

/** Serves `server` for the enclosing suite and adds the tests both APIs run; returns its URL. */
function itServesOverHttp2(server: http2.Http2Server, log: StreamLog): () => string {
  let base = '';
  before(async () => {
    base = await listen(server);
  });
  after(() => {
    log.closeAll();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  });

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

  return () => base;
}

describe('EventStream over node:http2, compatibility API (h2c)', () => {
  const log = new StreamLog();
  const server = http2.createServer((req, res) => {
    handle(log, req.url, (options) => createEventStream(req, res, options));
  });
  itServesOverHttp2(server, log);
});

describe('EventStream over node:http2, core API (h2c)', () => {
  const log = new StreamLog();
  const server = http2.createServer();
  server.on('stream', (stream, headers) => {
    handle(log, headers[':path'], (options) =>
      eventStreamFromHttp2Stream(stream, headers, options),
    );
  });
  const base = itServesOverHttp2(server, log);

  it('keeps many streams on one session, closing each on its own', async () => {
    const first = log.streams.length;
    const session = http2.connect(base());
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
