import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { FeedGap, Transport } from '../../src/transport/types.js';
import type { TransportTestOptions } from './conformance.js';
import { collector, ids, publishAll, range, update } from './helpers.js';

/** Two transports on one store, as two hub processes would hold them. */
export interface TwoNodeFixture {
  a: Transport;
  b: Transport;
  /**
   * Stops node `b`'s live feed from reading the store (as a GC pause or a stopped process would)
   * until the returned function is called; updates published meanwhile wait in the store.
   */
  lag(): () => void;
  /** Closes both transports (if still open) and removes whatever they created. */
  cleanup(): Promise<void>;
}

export type TwoNodeFactory = (options?: TransportTestOptions) => Promise<TwoNodeFixture>;

type TestContext = { after(fn: () => unknown): void };

/**
 * The suite for a transport whose live feed crosses processes: publishes on one node reach the
 * other once and in order, history is one, ids are unique across nodes, and a lagging feed is
 * either caught up without duplicates or gaps, or reports the gap it cannot fill.
 */
export function twoNodeConformance(name: string, factory: TwoNodeFactory): void {
  async function open(t: TestContext, options?: TransportTestOptions): Promise<TwoNodeFixture> {
    const fixture = await factory(options);
    t.after(() => fixture.cleanup());
    return fixture;
  }

  describe(`Transport conformance, two nodes on one store: ${name}`, () => {
    it('delivers a publish on either node to both, once each and in one order', async (t) => {
      const { a, b } = await open(t);
      const onA = collector(a);
      const onB = collector(b);
      t.after(() => {
        onA.unsubscribe();
        onB.unsubscribe();
      });
      for (let i = 0; i < 20; i++) await (i % 2 === 0 ? a : b).publish(update(`u${i}`));
      await onA.waitFor(20);
      await onB.waitFor(20);
      assert.deepEqual(ids(onA.received), range(20));
      assert.deepEqual(ids(onB.received), range(20));
    });

    it('gives every update the same position on both nodes', async (t) => {
      const { a, b } = await open(t);
      const seen = { a: [] as number[], b: [] as number[] };
      const offA = a.subscribe((_, position) => seen.a.push(position));
      const onA = collector(a);
      const onB = collector(b);
      const offB = b.subscribe((_, position) => seen.b.push(position));
      t.after(() => {
        offA();
        offB();
        onA.unsubscribe();
        onB.unsubscribe();
      });
      await publishAll(a, range(5, 'a'));
      await publishAll(b, range(5, 'b'));
      // Each node's feed runs at its own pace: a may see b's updates after b's publishes resolved.
      await onA.waitFor(10);
      await onB.waitFor(10);
      assert.deepEqual(seen.b, seen.a);
      for (let i = 1; i < seen.b.length; i++) assert.ok(seen.b[i]! > seen.b[i - 1]!);
      assert.equal(await b.positionOf('a0'), seen.b[0]);
      assert.equal(await a.positionOf('b4'), seen.b[9]);
    });

    it('shares one history: either node replays what both published, in store order', async (t) => {
      const { a, b } = await open(t);
      await a.publish(update('x'));
      await b.publish(update('y'));
      await a.publish(update('z'));
      for (const node of [a, b]) {
        assert.deepEqual(ids((await node.replay('earliest')).updates), ['x', 'y', 'z']);
        assert.deepEqual(ids((await node.replay('x')).updates), ['y', 'z']);
        assert.equal(await node.lastId(), 'z');
      }
      assert.deepEqual(await a.bounds(), await b.bounds());
      const pageA = await a.read(0, (await a.bounds()).newest, 10);
      const pageB = await b.read(0, (await b.bounds()).newest, 10);
      assert.deepEqual(pageA, pageB);
    });

    it('accepts an id already stored through the other node; both resolve the earliest occurrence', async (t) => {
      const { a, b } = await open(t);
      await a.publish(update('same'));
      await a.publish(update('between'));
      await b.publish(update('same', { data: 'other' }));
      await b.publish(update('last'));
      const first = (await a.read(0, Number.MAX_SAFE_INTEGER, 10))[0]!.position;
      for (const node of [a, b]) {
        assert.deepEqual(
          (await node.replay('earliest')).updates.map((u) => u.data),
          ['data of same', 'data of between', 'other', 'data of last'],
        );
        assert.equal(await node.positionOf('same'), first);
        assert.deepEqual(
          (await node.replay('same')).updates.map((u) => u.data),
          ['data of between', 'other', 'data of last'],
        );
      }
    });

    it('a lagging feed catches up in order; history and live together hold each update once', async (t) => {
      const { a, b, lag } = await open(t);
      const live: { id: string; position: number }[] = [];
      const onB = collector(b);
      const off = b.subscribe((u, position) => live.push({ id: u.id, position }));
      t.after(() => {
        off();
        onB.unsubscribe();
      });
      await publishAll(a, range(3, 'before'));
      await onB.waitFor(3);

      const resume = lag();
      await publishAll(a, range(5, 'during'));
      // A subscriber joining on b now reads history up to the store's newest position, while
      // b's feed has not yet delivered those updates: the hub's rule keeps live ones above it.
      const { newest } = await b.bounds();
      const history = await b.read(0, newest, 100);
      resume();
      await publishAll(a, range(2, 'after'));
      await onB.waitFor(10);

      assert.deepEqual(ids(onB.received), [
        ...range(3, 'before'),
        ...range(5, 'during'),
        ...range(2, 'after'),
      ]);
      const combined = [
        ...history.map((s) => s.update.id),
        ...live.filter((l) => l.position > newest).map((l) => l.id),
      ];
      assert.deepEqual(combined, ids(onB.received));
    });

    it('reports a gap when the lagging feed fell behind retention, then goes on', async (t) => {
      const { a, b, lag } = await open(t, { maxHistory: 5 });
      const gaps: FeedGap[] = [];
      const onB = collector(b);
      const off = b.subscribe(
        () => {},
        (gap) => gaps.push(gap),
      );
      t.after(() => {
        off();
        onB.unsubscribe();
      });
      await a.publish(update('first'));
      await onB.waitFor(1);
      const epoch = (await b.bounds()).epoch;

      const resume = lag();
      await publishAll(a, range(30, 'trimmed'));
      resume();
      await a.publish(update('next'));
      await onB.waitForId('next');
      assert.equal(gaps.length, 1, 'one gap reported');
      assert.equal(gaps[0]!.reason, 'lagged');
      assert.equal(gaps[0]!.epoch, epoch);
      // What b still delivered after the gap is in order, with nothing twice.
      const got = ids(onB.received);
      assert.equal(new Set(got).size, got.length);
      assert.equal(got.at(-1), 'next');
    });
  });
}
