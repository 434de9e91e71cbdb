import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isSseHubError } from '../../src/errors.js';
import { encodeEvent } from '../../src/protocol/encoder.js';
import { parseEventStream } from '../../src/protocol/parser.js';
import { eventStreamResponse } from '../../src/stream/adapters/fetch.js';
import { createFetchServer } from '../helpers/fetch-server.js';
import {
  itServesTheScript,
  listenForSuite,
  runScript,
  SCRIPT_OPTIONS,
  StreamLog,
} from './fixtures/scenario.js';

describe('EventStream as a fetch-style Response, served over node:http', () => {
  const log = new StreamLog();
  const server = createFetchServer((request) => {
    const { stream, response } = eventStreamResponse(request, SCRIPT_OPTIONS);
    runScript(stream, log);
    return response;
  });
  const base = listenForSuite(server, log);

  // The node:http server that sends the Response owns the Connection header.
  itServesTheScript(() => `${base()}/events`, log, { connection: 'any' });
});

describe('eventStreamResponse body', () => {
  const request = (headers: Record<string, string> = {}): Request =>
    new Request('http://localhost/events', { headers });

  it('has the event-stream headers and no Connection header', () => {
    const { stream, response } = eventStreamResponse(request({ 'Last-Event-ID': '9' }), {
      heartbeatMs: 0,
      status: 200,
      headers: { 'x-extra': 'yes' },
    });
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('content-type'), 'text/event-stream');
    assert.equal(response.headers.get('cache-control'), 'no-cache, no-transform');
    assert.equal(response.headers.get('x-accel-buffering'), 'no');
    assert.equal(response.headers.get('x-extra'), 'yes');
    assert.equal(response.headers.get('connection'), null);
    assert.equal(stream.lastEventId, '9');
    stream.close();
  });

  it('queues when the body is full; close() still delivers every accepted frame', async () => {
    const { stream, response } = eventStreamResponse(request(), {
      heartbeatMs: 0,
      bodyHighWaterMark: 1024,
      maxQueueBytes: 1024 * 1024,
    });
    for (let i = 0; i < 10; i++) {
      assert.equal(stream.send({ id: String(i), data: 'x'.repeat(600) }), true);
    }
    assert.equal(stream.needsDrain, true);
    assert.ok(stream.queuedBytes > 0);
    const drained = stream.whenDrained();
    stream.close();
    await drained;
    assert.equal(stream.queuedBytes, 0);
    const events = parseEventStream(await response.text());
    assert.deepEqual(
      events.map((e) => e.lastEventId),
      Array.from({ length: 10 }, (_, i) => String(i)),
    );
  });

  it('delivers every queued frame once the reader catches up', async () => {
    const { stream, response } = eventStreamResponse(request(), {
      heartbeatMs: 0,
      bodyHighWaterMark: 1024,
    });
    const reader = response.body?.getReader();
    assert.ok(reader);
    for (let i = 0; i < 20; i++) stream.send({ id: String(i), data: 'y'.repeat(500) });
    assert.ok(stream.queuedBytes > 0, 'frames wait for the reader');
    const drained = stream.whenDrained();
    let text = '';
    const decoder = new TextDecoder();
    let events = 0;
    while (events < 20) {
      const { value, done } = await reader.read();
      assert.equal(done, false);
      text += decoder.decode(value, { stream: true });
      events = parseEventStream(text).length;
    }
    await drained;
    assert.equal(stream.queuedBytes, 0);
    assert.equal(stream.needsDrain, false);
    assert.deepEqual(
      parseEventStream(text).map((e) => e.lastEventId),
      Array.from({ length: 20 }, (_, i) => String(i)),
    );
    stream.close();
    assert.equal((await reader.read()).done, true);
  });

  it('closes with overflow when the body is never read, and errors the body', async () => {
    const { stream, response } = eventStreamResponse(request(), {
      heartbeatMs: 0,
      bodyHighWaterMark: 1024,
      maxQueueBytes: 8 * 1024,
    });
    const frame = encodeEvent({ data: 'z'.repeat(1000) });
    let writes = 0;
    while (stream.write(frame)) {
      writes++;
      assert.ok(stream.queuedBytes <= 8 * 1024);
      assert.ok(writes < 100, 'the bound applies');
    }
    assert.equal(stream.closeReason, 'overflow');
    assert.equal(stream.queuedBytes, 0);
    await assert.rejects(response.text(), (err: unknown) => isSseHubError(err, 'QUEUE_OVERFLOW'));
  });

  it('closes with reason client when the body is cancelled or the request aborts', async () => {
    const one = eventStreamResponse(request(), { heartbeatMs: 20 });
    await one.response.body?.cancel();
    assert.equal(one.stream.closeReason, 'client');

    const controller = new AbortController();
    const two = eventStreamResponse(
      new Request('http://localhost/', { signal: controller.signal }),
      {
        heartbeatMs: 20,
      },
    );
    controller.abort();
    assert.equal(two.stream.closeReason, 'client');
    assert.equal(two.stream.send({ data: 'late' }), false);
  });
});
