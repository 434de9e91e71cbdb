import assert from 'node:assert/strict';
import { createHook } from 'node:async_hooks';
import { describe, it } from 'node:test';
import { eventStreamResponse } from '../../src/stream/adapters/fetch.js';
import { type HeartbeatMember, heartbeats } from '../../src/stream/heartbeat.js';
import { DEFAULT_WAIT_MS } from '../helpers/sse-client.js';

function withTimeout<T>(promise: Promise<T>, label: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out: ${label}`)), DEFAULT_WAIT_MS);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

// Reads a body until it has seen `n` heartbeat comments (`:\n\n`), with no timers of its own.
async function heartbeatsIn(body: ReadableStream<Uint8Array>, n: number): Promise<void> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let text = '';
  while (text.split('\n:\n').length - 1 < n) {
    const { value, done } = await reader.read();
    if (done) throw new Error('body ended');
    text += decoder.decode(value, { stream: true });
  }
  reader.releaseLock();
}

describe('heartbeats', () => {
  it('drive every stream from one shared timer that exists only while streams do', async () => {
    assert.equal(heartbeats.size, 0);
    assert.equal(heartbeats.running, false);
    let timersCreated = 0;
    const hook = createHook({
      init(_id, type) {
        if (type === 'Timeout') timersCreated++;
      },
    });
    const streams: ReturnType<typeof eventStreamResponse>[] = [];
    let started!: () => void;
    const start = new Promise<void>((resolve) => {
      started = resolve;
    });
    // The guard timer exists before the hook counts.
    const run = withTimeout(
      start.then(async () => {
        hook.enable();
        try {
          for (let i = 0; i < 100; i++) {
            streams.push(
              eventStreamResponse(new Request('http://localhost/'), { heartbeatMs: 20 }),
            );
          }
          assert.equal(heartbeats.size, 100);
          assert.equal(heartbeats.running, true);
          await Promise.all(streams.map((s) => heartbeatsIn(s.response.body as ReadableStream, 2)));
        } finally {
          hook.disable();
        }
      }),
      '2 heartbeats on each of 100 streams',
    );
    started();
    try {
      await run;
    } finally {
      for (const s of streams) s.stream.close();
    }
    assert.equal(timersCreated, 1, 'one timer for 100 streams');
    assert.equal(heartbeats.size, 0);
    assert.equal(heartbeats.running, false, 'the timer goes with the last stream');
  });

  it('skips a stream that keeps writing and beats an idle one', async () => {
    const beats = { busy: 0, idle: 0 };
    const busy: HeartbeatMember = {
      ms: 40,
      wrote: false,
      idleSince: 0,
      beat: () => {
        beats.busy++;
      },
    };
    // The observer beats on (almost) every sweep and marks the busy member as having written,
    // so the busy member writes between any two sweeps, however late the timer runs.
    const observer: HeartbeatMember = {
      ms: 10,
      wrote: false,
      idleSince: 0,
      beat: () => {
        busy.wrote = true;
      },
    };
    let idleBeats!: () => void;
    const fiveIdleBeats = new Promise<void>((resolve) => {
      idleBeats = resolve;
    });
    const idle: HeartbeatMember = {
      ms: 40,
      wrote: false,
      idleSince: 0,
      beat: () => {
        if (++beats.idle === 5) idleBeats();
      },
    };
    heartbeats.add(observer);
    heartbeats.add(busy);
    heartbeats.add(idle);
    try {
      await withTimeout(fiveIdleBeats, 'five idle heartbeats');
    } finally {
      heartbeats.delete(observer);
      heartbeats.delete(busy);
      heartbeats.delete(idle);
    }
    assert.equal(beats.busy, 0);
    assert.equal(heartbeats.running, false);
  });
});
