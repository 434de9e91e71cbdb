import assert from 'node:assert/strict';
import { isSseHubError } from '../../src/errors.js';
import type { Transport, Update } from '../../src/transport/types.js';

// Helpers of the transport conformance suites (one node, two nodes on one store).

export const WAIT_MS = 10_000;

export function update(id: string, extra: Partial<Update> = {}): Update {
  return {
    id,
    topics: [`https://example.com/items/${id}`],
    data: `data of ${id}`,
    private: false,
    ...extra,
  };
}

export function ids(updates: readonly Update[]): string[] {
  return updates.map((u) => u.id);
}

export function range(n: number, prefix = 'u'): string[] {
  return Array.from({ length: n }, (_, i) => `${prefix}${i}`);
}

/** Records what a listener receives and lets a test wait for a count, with a failing timeout. */
export function collector(transport: Transport) {
  const received: Update[] = [];
  const waiters: { done: () => boolean; resolve: () => void }[] = [];
  const unsubscribe = transport.subscribe((u) => {
    received.push(u);
    for (const w of waiters.filter((x) => x.done())) {
      waiters.splice(waiters.indexOf(w), 1);
      w.resolve();
    }
  });
  async function until(done: () => boolean, what: () => string): Promise<Update[]> {
    if (done()) return received;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      new Promise<void>((resolve) => waiters.push({ done, resolve })),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what()} in ${WAIT_MS} ms`)), WAIT_MS);
      }),
    ]).finally(() => clearTimeout(timer));
    return received;
  }
  return {
    received,
    unsubscribe,
    /** Resolves once `n` updates arrived; fails after WAIT_MS. */
    waitFor(n: number): Promise<Update[]> {
      return until(
        () => received.length >= n,
        () => `got ${received.length} of ${n} updates`,
      );
    },
    /** Resolves once the update `id` arrived; fails after WAIT_MS. */
    waitForId(id: string): Promise<Update[]> {
      return until(
        () => received.some((u) => u.id === id),
        () => `no update ${id} among ${received.length}`,
      );
    },
  };
}

export async function rejectsWith(promise: Promise<unknown>, code: string): Promise<void> {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(isSseHubError(err), `expected an SseHubError, got ${String(err)}`);
    assert.equal(err.code, code);
    return true;
  });
}

export async function publishAll(transport: Transport, list: readonly string[]): Promise<void> {
  for (const id of list) await transport.publish(update(id));
}
