import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  MIN_RECONNECT_DELAY_MS,
  type ReconnectInfo,
  type SseEvent,
  SseHubHttpError,
  subscribe,
} from '../../src/client/index.js';
import { frame } from '../helpers/misbehaving-server.js';
import { collect, recordingScheduler, serve, within } from './support.js';

/** Lets a server script wait until the client has delivered a given event id. */
function deliveries() {
  const seen = new Set<string>();
  const waiting = new Map<string, () => void>();
  return {
    saw(id: string) {
      seen.add(id);
      waiting.get(id)?.();
    },
    until(id: string): Promise<void> {
      if (seen.has(id)) return Promise.resolve();
      return within(new Promise((resolve) => waiting.set(id, resolve)), `delivery of ${id}`);
    },
  };
}

const lastIdHeaders = (requests: readonly { headers: Record<string, unknown> }[]) =>
  requests.map((r) => r.headers['last-event-id']);

describe('client: reconnect and resume', () => {
  it('resumes after drops mid-event with the right Last-Event-ID, never delivering twice', async (t) => {
    const history = ['1', '2', '3', '4', '5', '6'].map((id) => ({ id, data: `event ${id} ✓` }));
    const after = (lastId: unknown) => history.slice(history.findIndex((e) => e.id === lastId) + 1);
    const client = deliveries();
    const server = await serve(t, async (conn) => {
      const pending = after(conn.request.headers['last-event-id']);
      const send = (n: number) =>
        conn.write(
          pending
            .slice(0, n)
            .map((e) => frame(e.id, e.data))
            .join(''),
        );
      switch (conn.index) {
        case 0:
          await conn.open();
          await send(2);
          await client.until('2');
          await conn.write('id: 3\ndata: thr');
          return conn.drop();
        case 1:
          await conn.open();
          await send(2);
          await client.until('4');
          // A whole event but for its blank line: its id must not count as received.
          await conn.write('id: 5\ndata: five\n');
          return conn.drop();
        case 2:
          await conn.open();
          await send(2);
          return conn.end();
        default:
          return conn.reply(204);
      }
    });
    const events: SseEvent[] = [];
    for await (const event of subscribe(`${server.origin}/events`, { initialDelayMs: 5 })) {
      events.push(event);
      client.saw(event.lastEventId);
    }
    assert.deepEqual(
      events.map((e) => [e.lastEventId, e.data]),
      history.map((e) => [e.id, e.data]),
    );
    assert.equal(events[0]?.origin, server.origin);
    assert.deepEqual(lastIdHeaders(server.requests), [undefined, '2', '4', '6']);
  });

  it('sends non-ASCII ids as UTF-8, as EventSource does, without a false history-lost', async (t) => {
    const server = await serve(t, async (conn) => {
      if (conn.index > 0) return conn.reply(204);
      // Echo the id back as raw bytes, as a hub that found it would.
      const echoed = Buffer.from(String(conn.request.headers['last-event-id']), 'latin1');
      conn.res.setHeader('Last-Event-ID', echoed.toString('latin1'));
      await conn.open();
      await conn.write(frame('ü-2', 'x'));
      await conn.end();
    });
    const lost: unknown[] = [];
    await collect(
      subscribe(server.origin, {
        lastEventId: 'é-🎉-1',
        initialDelayMs: 1,
        onHistoryLost: (info) => lost.push(info),
      }),
    );
    const sent = server.requests.map((r) =>
      Buffer.from(String(r.headers['last-event-id']), 'latin1').toString('utf8'),
    );
    assert.deepEqual(sent, ['é-🎉-1', 'ü-2']);
    assert.deepEqual(lost, []);
  });

  it('starts from the lastEventId option', async (t) => {
    const server = await serve(t, (conn) => conn.reply(204));
    await collect(subscribe(server.origin, { lastEventId: 'abc-41' }));
    assert.deepEqual(lastIdHeaders(server.requests), ['abc-41']);
  });

  it('parses bytes split anywhere: inside UTF-8 characters and between CR and LF', async (t) => {
    const body =
      ': hello\r\n\r\nid: 1\r\ndata: héllo 世界 🎉\r\n\r\n' +
      'event: tick\r\ndata: a\r\ndata: ü\r\n\r\n' +
      'id: 3\rdata: cr only\r\rid: 4\ndata: lf\n\n';
    const server = await serve(t, async (conn) => {
      if (conn.index > 0) return conn.reply(204);
      await conn.open();
      await conn.writeSplit(body);
      await conn.end();
    });
    const events = await collect(subscribe(server.origin, { initialDelayMs: 1 }));
    assert.deepEqual(
      events.map((e) => [e.type, e.data, e.lastEventId]),
      [
        ['message', 'héllo 世界 🎉', '1'],
        ['tick', 'a\nü', '1'],
        ['message', 'cr only', '3'],
        ['message', 'lf', '4'],
      ],
    );
    assert.deepEqual(lastIdHeaders(server.requests), [undefined, '4']);
  });

  it('gives the same events for every single cut of the byte stream', async () => {
    const bytes = new TextEncoder().encode(
      'id: 7\r\ndata: 🎉é\r\n\r\nevent: x\r\ndata: 世\r\n\r\n',
    );
    for (let cut = 1; cut < bytes.length; cut++) {
      let calls = 0;
      const fetch = async (): Promise<Response> => {
        if (calls++ > 0) return new Response(null, { status: 204 });
        const body = new ReadableStream<Uint8Array>({
          start(controller) {
            controller.enqueue(bytes.slice(0, cut));
            controller.enqueue(bytes.slice(cut));
            controller.close();
          },
        });
        return new Response(body, { headers: { 'content-type': 'text/event-stream' } });
      };
      const events = await collect(subscribe('http://example.test/', { fetch, initialDelayMs: 0 }));
      assert.deepEqual(
        events.map((e) => [e.type, e.data, e.lastEventId]),
        [
          ['message', '🎉é', '7'],
          ['x', '世', '7'],
        ],
        `cut at byte ${cut}`,
      );
    }
  });

  it('ignores malformed lines and keeps going', async (t) => {
    const server = await serve(t, async (conn) => {
      if (conn.index > 0) return conn.reply(204);
      await conn.open();
      await conn.write(
        'data\n\n' + // a field without colon: empty data
          'foo: bar\nDATA: no\nid: 9\ndata: kept\n\n' + // unknown fields ignored
          'id: a\0b\ndata: nul id ignored\n\n' +
          'retry: 12x\n: comment\nevent:\ndata: x\n\n' +
          ':\n\n\n\nid\ndata: id reset\n\n' +
          'data: never terminated',
      );
      await conn.end();
    });
    const events = await collect(subscribe(server.origin, { initialDelayMs: 1 }));
    assert.deepEqual(
      events.map((e) => [e.type, e.data, e.lastEventId]),
      [
        ['message', '', ''],
        ['message', 'kept', '9'],
        ['message', 'nul id ignored', '9'],
        ['message', 'x', '9'],
        ['message', 'id reset', ''],
      ],
    );
  });

  it('backs off with growing delays after 500s and resets once a connection opens', async (t) => {
    const server = await serve(t, async (conn) => {
      if (conn.index < 5 || conn.index === 6) return conn.reply(500, {}, 'boom');
      if (conn.index > 6) return conn.reply(204);
      await conn.open();
      await conn.write(frame('1', 'up'));
      await conn.end();
    });
    const infos: ReconnectInfo[] = [];
    const delays: number[] = [];
    const events = await collect(
      subscribe(server.origin, {
        initialDelayMs: 200,
        maxDelayMs: 2000,
        random: () => 0.999_999,
        schedule: recordingScheduler(delays),
        onReconnecting: (info) => infos.push(info),
      }),
    );
    assert.deepEqual(
      events.map((e) => e.data),
      ['up'],
    );
    assert.deepEqual(
      infos.map((i) => i.attempt),
      [0, 1, 2, 3, 4, 0, 1],
    );
    assert.deepEqual(delays, [200, 400, 800, 1600, 2000, 200, 400]);
    assert.deepEqual(
      infos.map((i) => i.delayMs),
      delays,
    );
    const first = infos[0]?.error;
    assert.ok(first instanceof SseHubHttpError);
    assert.equal(first.code, 'HTTP_ERROR');
    assert.equal(first.httpStatus, 500);
    assert.equal(first.body, 'boom');
    assert.equal(infos[5]?.error.code, 'CONNECTION_LOST');
    assert.deepEqual(lastIdHeaders(server.requests), [
      undefined,
      undefined,
      undefined,
      undefined,
      undefined,
      undefined,
      '1',
      '1',
    ]);
  });

  it('jitters the schedule: each delay anywhere in [floor, cap], not the cap itself', async (t) => {
    const failures = 10;
    const server = await serve(t, (conn) =>
      conn.index < failures ? conn.reply(503, {}, 'busy') : conn.reply(204),
    );
    const delays: number[] = [];
    await collect(
      subscribe(server.origin, {
        initialDelayMs: 200,
        maxDelayMs: 5000,
        schedule: recordingScheduler(delays),
      }),
    );
    assert.equal(delays.length, failures);
    const caps = delays.map((_, i) => Math.min(5000, 200 * 2 ** i));
    delays.forEach((d, i) => {
      const ok = Number.isInteger(d) && d >= MIN_RECONNECT_DELAY_MS && d <= (caps[i] as number);
      assert.ok(ok, `delay ${i}: ${d}`);
    });
    // With Math.random, ten draws all landing exactly on their caps has odds below 1e-20.
    assert.ok(delays.some((d, i) => d !== caps[i]));
    assert.ok(new Set(delays).size > 1);
  });

  it('uses the server retry: as the base, following each change', async (t) => {
    const server = await serve(t, async (conn) => {
      if (conn.index >= 3) return conn.reply(204);
      await conn.open();
      const retry = ['retry: 400\n\n', 'retry: 170\n', 'retry: 9x\n'][conn.index] as string;
      await conn.write(`${retry}${frame(String(conn.index), 'x')}`);
      await conn.end();
    });
    const delays: number[] = [];
    await collect(
      subscribe(server.origin, {
        initialDelayMs: 1000,
        random: () => 0.999_999,
        schedule: recordingScheduler(delays),
      }),
    );
    // The third stream's retry is not digits only, so 170 stays in force.
    assert.deepEqual(delays, [400, 170, 170]);
  });

  it('reconnects when the stream goes silent past heartbeatTimeoutMs', async (t) => {
    const server = await serve(t, async (conn) => {
      if (conn.index === 0) return; // never answers, not even headers
      if (conn.index === 1) {
        await conn.open();
        await conn.write(frame('1', 'then silence'));
        return; // open but silent
      }
      return conn.reply(204);
    });
    const errors: string[] = [];
    const events = await collect(
      subscribe(server.origin, {
        heartbeatTimeoutMs: 150,
        initialDelayMs: 1,
        onError: (e) => errors.push(e.code),
      }),
    );
    assert.deepEqual(
      events.map((e) => e.data),
      ['then silence'],
    );
    assert.deepEqual(errors, ['HEARTBEAT_TIMEOUT', 'HEARTBEAT_TIMEOUT']);
    assert.deepEqual(lastIdHeaders(server.requests), [undefined, undefined, '1']);
  });

  it('never reconnects in a tight loop: a server retry: 0 is floored', async (t) => {
    // Opens, says retry: 0, ends at once: each open resets the attempt count to 0.
    const server = await serve(t, async (conn) => {
      if (conn.index >= 4) return conn.reply(204);
      await conn.open();
      await conn.write(`retry: 0\n\n${frame(String(conn.index), 'x')}`);
      await conn.end();
    });
    const delays: number[] = [];
    const infos: ReconnectInfo[] = [];
    await collect(
      subscribe(server.origin, {
        random: () => 0,
        schedule: recordingScheduler(delays),
        onReconnecting: (info) => infos.push(info),
      }),
    );
    assert.deepEqual(
      infos.map((i) => i.attempt),
      [0, 0, 0, 0],
    );
    assert.deepEqual(delays, [100, 100, 100, 100]);
    assert.equal(MIN_RECONNECT_DELAY_MS, 100);
  });

  it('floors initialDelayMs: 0 and Retry-After: 0 on failing attempts too', async (t) => {
    const server = await serve(t, (conn) => {
      if (conn.index === 0) return conn.reply(503, { 'retry-after': '0' }, 'busy');
      return conn.index < 4 ? conn.reply(500, {}, 'boom') : conn.reply(204);
    });
    const delays: number[] = [];
    await collect(
      subscribe(server.origin, {
        initialDelayMs: 0,
        random: () => 0.999_999,
        schedule: recordingScheduler(delays),
      }),
    );
    assert.deepEqual(delays, [100, 100, 100, 100]);
  });

  it('still uses a server retry: at or above the floor for the first reconnect', async (t) => {
    const server = await serve(t, async (conn) => {
      if (conn.index >= 1) return conn.reply(204);
      await conn.open();
      await conn.write(`retry: 250\n\n${frame('1', 'x')}`);
      await conn.end();
    });
    const delays: number[] = [];
    await collect(
      subscribe(server.origin, {
        random: () => 0.999_999,
        schedule: recordingScheduler(delays),
      }),
    );
    assert.deepEqual(delays, [250]);
  });
});
