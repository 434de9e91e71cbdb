import assert from 'node:assert/strict';
import http from 'node:http';
import { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import { isSseHubError } from '../../src/errors.js';
import { parseEventStream } from '../../src/protocol/parser.js';
import type { EventFields } from '../../src/protocol/types.js';
import { eventStreamResponse } from '../../src/stream/adapters/fetch.js';
import { createEventStream } from '../../src/stream/adapters/node.js';
import type { EventStream } from '../../src/stream/event-stream.js';
import { pipeEvents } from '../../src/stream/pipe.js';
import { openSse } from '../helpers/sse-client.js';
import { listenForSuite, StreamLog } from './fixtures/scenario.js';

type Source = AsyncIterable<EventFields> | Iterable<EventFields>;

describe('pipeEvents', () => {
  const log = new StreamLog();
  let source: () => Source = () => [];
  let piped: Promise<void> = Promise.resolve();
  const server = http.createServer((req, res) => {
    const stream = createEventStream(req, res, { heartbeatMs: 0 });
    log.add(stream);
    piped = pipeEvents(source(), stream);
    piped.catch(() => {});
  });
  const base = listenForSuite(server, log);

  it('sends an async iterable and closes the stream when it ends', async () => {
    source = async function* () {
      for (let i = 0; i < 5; i++) {
        await new Promise((resolve) => setImmediate(resolve));
        yield { id: String(i), data: `n=${i}` };
      }
    };
    const conn = await openSse(base());
    await conn.waitForEnd();
    await piped;
    assert.deepEqual(
      conn.events.map((e) => e.data),
      ['n=0', 'n=1', 'n=2', 'n=3', 'n=4'],
    );
    assert.equal(log.reasons.get(log.streams.at(-1) as EventStream), 'server');
  });

  it('sends an object-mode Readable and a plain array', async () => {
    source = () => Readable.from([{ data: 'a' }, { event: 'b', data: 'b' }]);
    const one = await openSse(base());
    await one.waitForEnd();
    assert.deepEqual(
      one.events.map((e) => [e.type, e.data]),
      [
        ['message', 'a'],
        ['b', 'b'],
      ],
    );

    source = () => [{ data: 'x' }, { data: 'y' }];
    const two = await openSse(base());
    await two.waitForEnd();
    assert.deepEqual(
      two.events.map((e) => e.data),
      ['x', 'y'],
    );
  });

  it('stops on client close and releases an async generator', async () => {
    let released!: () => void;
    const releasedP = new Promise<void>((resolve) => {
      released = resolve;
    });
    source = async function* () {
      try {
        for (let i = 0; ; i++) {
          yield { data: String(i) };
          await new Promise((resolve) => setImmediate(resolve));
        }
      } finally {
        released();
      }
    };
    const conn = await openSse(base());
    await conn.waitForEvents(3);
    conn.close();
    await piped;
    await releasedP;
    assert.equal(log.reasons.get(log.streams.at(-1) as EventStream), 'client');
  });

  it('stops on client close and destroys an idle Readable', async () => {
    let readable: Readable | undefined;
    source = () => {
      // Sends one event, then waits for data that never comes.
      readable = new Readable({ objectMode: true, read() {} });
      readable.push({ data: 'first' });
      return readable;
    };
    const conn = await openSse(base());
    await conn.waitForEvents(1);
    conn.close();
    await piped;
    assert.equal(readable?.destroyed, true);
  });

  it('rejects and closes the stream when the source fails or yields a bad event', async () => {
    source = async function* () {
      yield { data: 'before' };
      throw new Error('source broke');
    };
    const one = await openSse(base());
    await one.waitForEnd();
    await assert.rejects(piped, /source broke/);
    assert.deepEqual(
      one.events.map((e) => e.data),
      ['before'],
    );

    source = () => [{ data: 'ok' }, { id: 'bad\nid', data: 'no' }];
    const two = await openSse(base());
    await two.waitForEnd();
    await assert.rejects(piped, (err: unknown) => isSseHubError(err, 'INVALID_EVENT_FIELD'));
    assert.deepEqual(
      two.events.map((e) => e.data),
      ['ok'],
    );
  });

  it('waits for drain instead of overflowing a slow reader', async () => {
    const { stream, response } = eventStreamResponse(new Request('http://localhost/'), {
      heartbeatMs: 0,
      bodyHighWaterMark: 1024,
      maxQueueBytes: 4 * 1024,
    });
    const events = Array.from({ length: 50 }, (_, i) => ({
      id: String(i),
      data: 'w'.repeat(1000),
    }));
    const done = pipeEvents(events, stream);
    // 50 KB through a 1 KB body and a 4 KB queue, read one chunk per macrotask: only waiting
    // for drain gets it all through.
    const reader = response.body?.getReader();
    assert.ok(reader);
    const decoder = new TextDecoder();
    let text = '';
    for (;;) {
      await new Promise((resolve) => setImmediate(resolve));
      const { value, done: ended } = await reader.read();
      if (ended) break;
      text += decoder.decode(value, { stream: true });
    }
    await done;
    assert.equal(stream.closeReason, 'server');
    assert.equal(parseEventStream(text).length, 50);
  });

  it('leaves the stream open with end: false', async () => {
    const { stream, response } = eventStreamResponse(new Request('http://localhost/'), {
      heartbeatMs: 0,
    });
    await pipeEvents([{ data: 'one' }], stream, { end: false });
    assert.equal(stream.closed, false);
    stream.send({ data: 'two' });
    stream.close();
    assert.deepEqual(
      parseEventStream(await response.text()).map((e) => e.data),
      ['one', 'two'],
    );
  });
});
