import type { TestContext } from 'node:test';
import type { SseEvent } from '../../src/client/index.js';
import { type ConnectionScript, startMisbehavingServer } from '../helpers/misbehaving-server.js';

/** Generous bound for anything a test waits on: slow CI is fine, a hang fails. */
export const WAIT_MS = 10_000;

/** Rejects when `promise` has not settled within `ms`. */
export function within<T>(promise: Promise<T>, what: string, ms = WAIT_MS): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** The next `type` event of `target`. */
export function nextEvent<E extends Event = Event>(target: EventTarget, type: string): Promise<E> {
  return within(
    new Promise<E>((resolve) => {
      target.addEventListener(type, (ev) => resolve(ev as E), { once: true });
    }),
    `a ${type} event`,
  );
}

/** Drains an async iterable into an array, with a timeout. */
export function collect(iterable: AsyncIterable<SseEvent>): Promise<SseEvent[]> {
  const run = async (): Promise<SseEvent[]> => {
    const out: SseEvent[] = [];
    for await (const event of iterable) out.push(event);
    return out;
  };
  return within(run(), 'the iteration to end');
}

/** A scheduler that records each delay and runs the callback on the next macrotask. */
export function recordingScheduler(delays: number[]) {
  return (run: () => void, delayMs: number): (() => void) => {
    delays.push(delayMs);
    const timer = setImmediate(run);
    return () => clearImmediate(timer);
  };
}

/** Starts a misbehaving server that runs `script` per connection, closed after the test `t`. */
export async function serve(t: TestContext, script: ConnectionScript) {
  const server = await startMisbehavingServer(script);
  t.after(() => server.close());
  return server;
}
