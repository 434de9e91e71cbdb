import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type DeadlineEntry, DeadlineTimer } from '../../src/hub/core/deadline-timer.js';
import { eventually } from '../helpers/sse-client.js';

interface Entry extends DeadlineEntry {
  readonly deadline: number;
}

function entry(deadline: number, fired: string[], name: string): Entry {
  return { deadline, expire: () => fired.push(name) };
}

describe('DeadlineTimer', () => {
  it('fires entries in deadline order from one timer', async () => {
    const timer = new DeadlineTimer();
    const fired: string[] = [];
    const now = Date.now();
    const entries = [30, 10, 50, 20, 40].map((ms) => entry(now + ms, fired, `e${ms}`));
    for (const e of entries) timer.add(e, e.deadline);
    assert.equal(timer.size, 5);
    await eventually(() => fired.length === 5, 'all deadlines');
    assert.deepEqual(fired, ['e10', 'e20', 'e30', 'e40', 'e50']);
    assert.equal(timer.size, 0);
  });

  it('never fires a deleted entry, and keeps the heap ordered across deletes', async () => {
    const timer = new DeadlineTimer();
    const fired: string[] = [];
    const now = Date.now();
    const entries = Array.from({ length: 50 }, (_, i) =>
      entry(now + 5 + ((i * 37) % 50), fired, `e${i}`),
    );
    for (const e of entries) timer.add(e, e.deadline);
    const removed = entries.filter((_, i) => i % 3 === 0);
    for (const e of removed) timer.delete(e);
    timer.delete(removed[0]!); // idempotent
    assert.equal(timer.size, 50 - removed.length);
    await eventually(() => timer.size === 0, 'the remaining deadlines');
    assert.equal(fired.length, 50 - removed.length);
    for (const e of removed) assert.ok(!fired.includes(`e${entries.indexOf(e)}`));
    const order = fired.map((name) => entries[Number(name.slice(1))]!.deadline);
    assert.deepEqual(
      order,
      [...order].sort((a, b) => a - b),
    );
  });

  it('re-arms for an earlier deadline added later', async () => {
    const timer = new DeadlineTimer();
    const fired: string[] = [];
    const late = entry(Date.now() + 60_000, fired, 'late');
    timer.add(late, late.deadline);
    timer.add(entry(Date.now() + 5, fired, 'soon'), Date.now() + 5);
    await eventually(() => fired.length === 1, 'the early deadline');
    assert.deepEqual(fired, ['soon']);
    timer.delete(late);
    assert.equal(timer.size, 0);
  });

  it('re-schedules an entry added again, and fires it once', async () => {
    const timer = new DeadlineTimer();
    const fired: string[] = [];
    const e = entry(Date.now() + 60_000, fired, 'e');
    timer.add(e, e.deadline);
    timer.add(e, Date.now() + 5);
    assert.equal(timer.size, 1);
    await eventually(() => fired.length === 1, 'the re-scheduled deadline');
    assert.equal(timer.size, 0);
    timer.delete(e); // no longer scheduled: a no-op
    assert.deepEqual(fired, ['e']);
  });
});
