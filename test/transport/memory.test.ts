import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isSseHubError } from '../../src/errors.js';
import { createMemoryTransport, DEFAULT_MEMORY_MAX_HISTORY } from '../../src/transport/memory.js';
import type { Update } from '../../src/transport/types.js';
import { transportConformance } from './conformance.js';

transportConformance('memory', async (options) => {
  const transport = createMemoryTransport(options);
  return { transport, cleanup: () => transport.close() };
});

function update(id: string): Update {
  return { id, topics: ['t'], data: id, private: false };
}

describe('MemoryTransport', () => {
  it('defaults to a bounded history', async () => {
    const transport = createMemoryTransport();
    const total = DEFAULT_MEMORY_MAX_HISTORY + 5;
    for (let i = 0; i < total; i++) await transport.publish(update(`u${i}`));
    const { updates } = await transport.replay('earliest');
    assert.equal(updates.length, DEFAULT_MEMORY_MAX_HISTORY);
    assert.equal(updates[0]!.id, 'u5');
    await transport.close();
  });

  it('stays correct across many compactions of its storage', async () => {
    const transport = createMemoryTransport({ maxHistory: 700 });
    for (let i = 0; i < 20_000; i++) await transport.publish(update(`u${i}`));
    assert.deepEqual(
      (await transport.replay('u19996')).updates.map((u) => u.id),
      ['u19997', 'u19998', 'u19999'],
    );
    const { updates, found } = await transport.replay('u19300');
    assert.equal(found, true);
    assert.equal(updates.length, 699);
    assert.equal(updates[0]!.id, 'u19301');
    assert.equal((await transport.replay('u19299')).found, false);
    await transport.close();
  });

  it('notifies listeners before publish resolves', async () => {
    const transport = createMemoryTransport();
    const seen: string[] = [];
    transport.subscribe((u) => seen.push(u.id));
    const pending = transport.publish(update('a'));
    assert.deepEqual(seen, ['a']);
    await pending;
    await transport.close();
  });

  it('hands every listener the same frozen object', async () => {
    const transport = createMemoryTransport();
    const seen: Update[] = [];
    transport.subscribe((u) => seen.push(u));
    transport.subscribe((u) => seen.push(u));
    await transport.publish(update('a'));
    assert.equal(seen[0], seen[1]);
    assert.ok(Object.isFrozen(seen[0]) && Object.isFrozen(seen[0]!.topics));
    await transport.close();
  });

  it('rejects an invalid maxHistoryAgeMs', () => {
    for (const maxHistoryAgeMs of [0, -5, Number.NaN]) {
      assert.throws(
        () => createMemoryTransport({ maxHistoryAgeMs }),
        (err: unknown) => isSseHubError(err, 'INVALID_OPTION'),
      );
    }
  });
});
