import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isSseHubError } from '../../src/errors.js';
import type { Transport, Update } from '../../src/transport/types.js';
import { collector, ids, publishAll, range, rejectsWith, update } from './helpers.js';

/** Options every transport under test must honour when the factory passes them on. */
export interface TransportTestOptions {
  maxHistory?: number;
  maxHistoryAgeMs?: number;
  now?: () => number;
  onError?: (err: unknown) => void;
}

export interface TransportFixture {
  transport: Transport;
  /** Closes the transport (if still open) and removes whatever it created. */
  cleanup(): Promise<void>;
}

export type TransportFactory = (options?: TransportTestOptions) => Promise<TransportFixture>;

export interface ConformanceFeatures {
  /** The transport stamps updates with the `now` option (false: skip the age-bound tests). */
  clock?: boolean;
}

type TestContext = { after(fn: () => unknown): void };

/**
 * The shared suite every Transport implementation must pass. `factory` builds a fresh transport
 * for each test, passing the options it gets on to the implementation.
 */
export function transportConformance(
  name: string,
  factory: TransportFactory,
  features: ConformanceFeatures = {},
): void {
  async function open(t: TestContext, options?: TransportTestOptions): Promise<Transport> {
    const fixture = await factory(options);
    t.after(() => fixture.cleanup());
    return fixture.transport;
  }

  describe(`Transport conformance: ${name}`, () => {
    describe('publish and subscribe', () => {
      it('delivers updates to a listener in publish order', async (t) => {
        const transport = await open(t);
        const c = collector(transport);
        await publishAll(transport, range(20));
        assert.deepEqual(ids(await c.waitFor(20)), range(20));
      });

      it('delivers each update exactly once to every listener', async (t) => {
        const transport = await open(t);
        const a = collector(transport);
        const b = collector(transport);
        await publishAll(transport, range(5));
        assert.deepEqual(ids(await a.waitFor(5)), range(5));
        assert.deepEqual(ids(await b.waitFor(5)), range(5));
        // A later update proves nothing extra arrived in between.
        await transport.publish(update('last'));
        assert.deepEqual(ids(await a.waitFor(6)), [...range(5), 'last']);
        assert.deepEqual(ids(await b.waitFor(6)), [...range(5), 'last']);
      });

      it('stops delivering to a listener after it unsubscribes, others go on', async (t) => {
        const transport = await open(t);
        const a = collector(transport);
        const b = collector(transport);
        await transport.publish(update('one'));
        await a.waitFor(1);
        a.unsubscribe();
        a.unsubscribe(); // idempotent
        await transport.publish(update('two'));
        assert.deepEqual(ids(await b.waitFor(2)), ['one', 'two']);
        assert.deepEqual(ids(a.received), ['one']);
      });

      it('lets a listener unsubscribe another one during delivery', async (t) => {
        const transport = await open(t);
        const seen: string[] = [];
        let unsubscribeB = (): void => {};
        transport.subscribe((u) => {
          seen.push(`a:${u.id}`);
          unsubscribeB();
        });
        unsubscribeB = transport.subscribe((u) => seen.push(`b:${u.id}`));
        const c = collector(transport);
        await publishAll(transport, ['x', 'y']);
        await c.waitFor(2);
        assert.deepEqual(seen, ['a:x', 'a:y']);
      });

      it('keeps order when a listener publishes from its callback', async (t) => {
        const transport = await open(t);
        const first: string[] = [];
        const second: string[] = [];
        const nested: Promise<void>[] = [];
        transport.subscribe((u) => {
          first.push(u.id);
          if (u.id === 'outer') nested.push(transport.publish(update('inner')));
        });
        const c = collector(transport);
        transport.subscribe((u) => second.push(u.id));
        await transport.publish(update('outer'));
        await c.waitFor(2);
        await Promise.all(nested);
        assert.deepEqual(first, ['outer', 'inner']);
        assert.deepEqual(second, ['outer', 'inner']);
        assert.deepEqual(ids((await transport.replay('earliest')).updates), ['outer', 'inner']);
      });

      it('a listener that throws does not stop the others; the error is reported', async (t) => {
        const errors: unknown[] = [];
        const transport = await open(t, { onError: (err) => errors.push(err) });
        const boom = new Error('listener failure');
        transport.subscribe(() => {
          throw boom;
        });
        const c = collector(transport);
        await transport.publish(update('a'));
        await transport.publish(update('b'));
        assert.deepEqual(ids(await c.waitFor(2)), ['a', 'b']);
        assert.deepEqual(errors, [boom, boom]);
        assert.deepEqual(ids((await transport.replay('earliest')).updates), ['a', 'b']);
      });

      it('keeps the order of concurrent publishes, live and in history', async (t) => {
        const transport = await open(t);
        const c = collector(transport);
        const list = range(200);
        await Promise.all(list.map((id) => transport.publish(update(id))));
        assert.deepEqual(ids(await c.waitFor(200)), list);
        assert.deepEqual(ids((await transport.replay('earliest')).updates), list);
      });

      it('makes an update replayable once publish resolves', async (t) => {
        const transport = await open(t);
        await transport.publish(update('a'));
        assert.deepEqual(ids((await transport.replay('earliest')).updates), ['a']);
        assert.equal(await transport.lastId(), 'a');
      });
    });

    describe('round-trip of every field', () => {
      it('keeps private, type and retry, and leaves absent fields absent', async (t) => {
        const transport = await open(t);
        const c = collector(transport);
        const sent: Update[] = [
          {
            id: 'p',
            topics: ['https://example.com/a', 'https://example.com/alt'],
            data: 'x',
            private: true,
            type: 'custom',
            retry: 0,
          },
          { id: 'q', topics: ['t'], data: '', private: false, retry: 2500 },
          { id: 'r', topics: ['t'], data: 'y', private: false, type: 'message' },
          { id: 's', topics: ['t'], data: 'z', private: false },
        ];
        for (const u of sent) await transport.publish(u);
        assert.deepEqual(await c.waitFor(4), sent);
        assert.deepEqual((await transport.replay('earliest')).updates, sent);
        const plain = (await transport.replay('r')).updates[0]!;
        assert.equal(Object.hasOwn(plain, 'type'), false);
        assert.equal(Object.hasOwn(plain, 'retry'), false);
      });

      it('keeps large data and Unicode intact', async (t) => {
        const transport = await open(t);
        const c = collector(transport);
        const unicode = 'héllo wörld ✓ 日本語 😀👩‍👩‍👧 עברית \u0301e \u2028\u2029 \u0000 end';
        const big = `${'0123456789abcdef'.repeat(64 * 1024)}${unicode}`; // 1 MiB + a tail
        const sent: Update[] = [
          {
            id: 'urn:uuid:ünï-😀',
            topics: ['https://example.com/böoks/日本', '/😀'],
            data: unicode,
            private: false,
          },
          { id: 'big', topics: ['https://example.com/big'], data: big, private: false },
          { id: 'lines', topics: ['t'], data: 'a\nb\r\nc\rd\n\n', private: false },
        ];
        for (const u of sent) await transport.publish(u);
        assert.deepEqual(await c.waitFor(3), sent);
        const { updates } = await transport.replay('earliest');
        assert.deepEqual(updates, sent);
        assert.equal(updates[1]!.data.length, big.length);
      });

      it('is not affected by the publisher mutating its object afterwards', async (t) => {
        const transport = await open(t);
        const mine = update('m', { topics: ['original'] });
        await transport.publish(mine);
        mine.data = 'changed';
        mine.topics.push('added');
        const [stored] = (await transport.replay('earliest')).updates;
        assert.equal(stored!.data, 'data of m');
        assert.deepEqual(stored!.topics, ['original']);
      });
    });

    describe('replay', () => {
      it('returns everything after an id, oldest first, found=true', async (t) => {
        const transport = await open(t);
        await publishAll(transport, range(10));
        assert.deepEqual(await transport.replay('u6'), {
          found: true,
          updates: ['u7', 'u8', 'u9'].map((id) => update(id)),
        });
      });

      it('returns nothing after the newest id, found=true', async (t) => {
        const transport = await open(t);
        await publishAll(transport, range(3));
        assert.deepEqual(await transport.replay('u2'), { found: true, updates: [] });
      });

      it('returns all retained history for earliest', async (t) => {
        const transport = await open(t);
        assert.deepEqual(await transport.replay('earliest'), { found: true, updates: [] });
        await publishAll(transport, range(4));
        const result = await transport.replay('earliest');
        assert.equal(result.found, true);
        assert.deepEqual(ids(result.updates), range(4));
      });

      it('returns all retained history with found=false for an unknown id', async (t) => {
        const transport = await open(t);
        assert.deepEqual(await transport.replay('nope'), { found: false, updates: [] });
        await publishAll(transport, range(4));
        const result = await transport.replay('never-published');
        assert.equal(result.found, false);
        assert.deepEqual(ids(result.updates), range(4));
      });

      it('applies the filter before the limit, and the limit keeps the newest', async (t) => {
        const transport = await open(t);
        for (let i = 0; i < 10; i++) {
          await transport.publish(update(`u${i}`, { topics: [i % 2 === 0 ? 'even' : 'odd'] }));
        }
        const even = (u: Update) => u.topics.includes('even');
        assert.deepEqual(ids((await transport.replay('earliest', { filter: even })).updates), [
          'u0',
          'u2',
          'u4',
          'u6',
          'u8',
        ]);
        assert.deepEqual(
          ids((await transport.replay('earliest', { filter: even, limit: 2 })).updates),
          ['u6', 'u8'],
        );
        assert.deepEqual(ids((await transport.replay('u3', { filter: even, limit: 10 })).updates), [
          'u4',
          'u6',
          'u8',
        ]);
        assert.deepEqual(ids((await transport.replay('u3', { limit: 3 })).updates), [
          'u7',
          'u8',
          'u9',
        ]);
        assert.deepEqual(ids((await transport.replay('u9', { limit: 3 })).updates), []);
        const none = await transport.replay('unknown', { filter: even, limit: 1 });
        assert.deepEqual(none, { found: false, updates: [update('u8', { topics: ['even'] })] });
        assert.deepEqual((await transport.replay('earliest', { limit: 0 })).updates, []);
        assert.deepEqual(ids((await transport.replay('u5', { filter: () => false })).updates), []);
      });

      it('rejects an invalid limit', async (t) => {
        const transport = await open(t);
        await rejectsWith(transport.replay('earliest', { limit: -1 }), 'INVALID_OPTION');
        await rejectsWith(transport.replay('earliest', { limit: 1.5 }), 'INVALID_OPTION');
      });
    });

    describe('positions and paged reads', () => {
      it('gives every live update its position, increasing in store order', async (t) => {
        const transport = await open(t);
        const seen: [string, number][] = [];
        const unsubscribe = transport.subscribe((u, position) => seen.push([u.id, position]));
        t.after(unsubscribe);
        await publishAll(transport, range(5));
        assert.deepEqual(
          seen.map(([id]) => id),
          range(5),
        );
        for (let i = 1; i < seen.length; i++) assert.ok(seen[i]![1] > seen[i - 1]![1]);
        for (const [id, position] of seen) assert.equal(await transport.positionOf(id), position);
        assert.equal(await transport.positionOf('never-published'), undefined);
      });

      it('reports the bounds of the retained history', async (t) => {
        const transport = await open(t, { maxHistory: 3 });
        const empty = await transport.bounds();
        assert.ok(empty.oldest > empty.newest, 'empty history');
        const positions: number[] = [];
        const unsubscribe = transport.subscribe((_, position) => positions.push(position));
        t.after(unsubscribe);
        await publishAll(transport, range(5));
        const { oldest, newest, epoch } = await transport.bounds();
        assert.equal(newest, positions[4]);
        assert.equal(oldest, positions[2]);
        // Positions belong to an epoch, which does not change while the store keeps its data.
        assert.equal(typeof epoch, 'string');
        assert.ok(epoch.length > 0);
        assert.equal(epoch, empty.epoch);
        // Positions are never reused: the next update goes past the newest one.
        await transport.publish(update('next'));
        assert.ok((await transport.bounds()).newest > newest);
      });

      it('reads a range of positions in pages, oldest first, up to a limit', async (t) => {
        const transport = await open(t);
        await publishAll(transport, range(10));
        const { oldest, newest } = await transport.bounds();
        const first = await transport.read(oldest - 1, newest, 4);
        assert.deepEqual(
          first.map((s) => s.update),
          range(4).map((id) => update(id)),
        );
        const second = await transport.read(first[3]!.position, newest, 4);
        assert.deepEqual(
          second.map((s) => s.update.id),
          ['u4', 'u5', 'u6', 'u7'],
        );
        // `until` is inclusive and bounds the read; nothing past it is returned.
        const until = second[1]!.position;
        assert.deepEqual(
          (await transport.read(first[3]!.position, until, 100)).map((s) => s.update.id),
          ['u4', 'u5'],
        );
        assert.deepEqual(await transport.read(newest, newest + 100, 10), []);
        assert.deepEqual(await transport.read(oldest - 1, newest, 0), []);
      });

      it('reads nothing that was trimmed', async (t) => {
        const transport = await open(t, { maxHistory: 3 });
        await publishAll(transport, range(6));
        const all = await transport.read(0, Number.MAX_SAFE_INTEGER, 100);
        assert.deepEqual(
          all.map((s) => s.update.id),
          ['u3', 'u4', 'u5'],
        );
      });
    });

    describe('lastId', () => {
      it('is undefined on empty history, then the newest id', async (t) => {
        const transport = await open(t);
        assert.equal(await transport.lastId(), undefined);
        await transport.publish(update('a'));
        assert.equal(await transport.lastId(), 'a');
        await transport.publish(update('b'));
        assert.equal(await transport.lastId(), 'b');
      });
    });

    describe('duplicate ids', () => {
      it('stores and delivers a reused id; positionOf and replay resolve the earliest occurrence', async (t) => {
        const transport = await open(t);
        const c = collector(transport);
        await transport.publish(update('a'));
        await transport.publish(update('b'));
        await transport.publish(update('a', { data: 'again' }));
        await transport.publish(update('c'));
        assert.deepEqual(ids(await c.waitFor(4)), ['a', 'b', 'a', 'c']);
        const all = (await transport.replay('earliest')).updates;
        assert.deepEqual(ids(all), ['a', 'b', 'a', 'c']);
        assert.deepEqual(
          all.map((u) => u.data),
          ['data of a', 'data of b', 'again', 'data of c'],
        );
        const stored = await transport.read(0, Number.MAX_SAFE_INTEGER, 10);
        assert.equal(await transport.positionOf('a'), stored[0]!.position);
        // Everything after the earliest `a`, the later `a` included (Mercure, Reconciliation).
        const after = await transport.replay('a');
        assert.equal(after.found, true);
        assert.deepEqual(
          after.updates.map((u) => u.data),
          ['data of b', 'again', 'data of c'],
        );
        assert.equal(await transport.lastId(), 'c');
      });

      it('once the earliest occurrence is trimmed, resolves the earliest one still retained', async (t) => {
        const transport = await open(t, { maxHistory: 3 });
        await publishAll(transport, ['a', 'b']);
        await transport.publish(update('a', { data: 'second a' }));
        await transport.publish(update('c'));
        // The first `a` left the history; the second is now the earliest `a` in it.
        const stored = await transport.read(0, Number.MAX_SAFE_INTEGER, 10);
        assert.deepEqual(ids(stored.map((s) => s.update)), ['b', 'a', 'c']);
        assert.equal(await transport.positionOf('a'), stored[1]!.position);
        assert.deepEqual(ids((await transport.replay('a')).updates), ['c']);
        await publishAll(transport, ['d', 'e']);
        assert.equal(await transport.positionOf('a'), undefined);
        assert.equal((await transport.replay('a')).found, false);
      });

      it('resolves an id reused many times by its earliest retained occurrence as they leave', async (t) => {
        const transport = await open(t, { maxHistory: 4 });
        for (let i = 0; i < 6; i++) await transport.publish(update('same', { data: `#${i}` }));
        const stored = await transport.read(0, Number.MAX_SAFE_INTEGER, 10);
        assert.deepEqual(
          stored.map((s) => s.update.data),
          ['#2', '#3', '#4', '#5'],
        );
        assert.equal(await transport.positionOf('same'), stored[0]!.position);
        assert.deepEqual(
          (await transport.replay('same')).updates.map((u) => u.data),
          ['#3', '#4', '#5'],
        );
      });
    });

    describe('bounded history', () => {
      it('keeps only the newest maxHistory updates', async (t) => {
        const transport = await open(t, { maxHistory: 3 });
        const c = collector(transport);
        await publishAll(transport, range(250));
        // Live delivery is not affected by the bound.
        assert.equal((await c.waitFor(250)).length, 250);
        assert.deepEqual(await transport.replay('earliest'), {
          found: true,
          updates: ['u247', 'u248', 'u249'].map((id) => update(id)),
        });
        assert.deepEqual(await transport.replay('u100'), {
          found: false,
          updates: ['u247', 'u248', 'u249'].map((id) => update(id)),
        });
        assert.deepEqual(ids((await transport.replay('u247')).updates), ['u248', 'u249']);
        assert.equal(await transport.lastId(), 'u249');
      });

      it('with maxHistory 0 still fans out but keeps no history', async (t) => {
        const transport = await open(t, { maxHistory: 0 });
        const c = collector(transport);
        await publishAll(transport, range(3));
        assert.deepEqual(ids(await c.waitFor(3)), range(3));
        assert.deepEqual(await transport.replay('u1'), { found: false, updates: [] });
        assert.equal(await transport.lastId(), undefined);
        await transport.publish(update('u1'));
      });

      it('rejects an invalid maxHistory', async () => {
        for (const maxHistory of [-1, 1.5, Number.NaN]) {
          await assert.rejects(
            async () => {
              const fixture = await factory({ maxHistory });
              await fixture.cleanup();
            },
            (err: unknown) => isSseHubError(err, 'INVALID_OPTION'),
          );
        }
      });

      it('drops updates older than maxHistoryAgeMs', {
        skip: features.clock === false && 'the transport has no injectable clock',
      }, async (t) => {
        let now = 1_700_000_000_000;
        const transport = await open(t, { maxHistoryAgeMs: 1000, now: () => now });
        await transport.publish(update('a'));
        now += 600;
        await transport.publish(update('b'));
        now += 600; // a is 1200 ms old, b 600 ms
        assert.deepEqual(await transport.replay('earliest'), {
          found: true,
          updates: [update('b')],
        });
        assert.deepEqual(await transport.replay('a'), { found: false, updates: [update('b')] });
        assert.equal(await transport.lastId(), 'b');
        await transport.publish(update('a', { data: 'a again' })); // a has left the history
        now += 5000;
        assert.deepEqual(await transport.replay('earliest'), { found: true, updates: [] });
        assert.equal(await transport.lastId(), undefined);
      });
    });

    describe('close', () => {
      it('rejects later publishes and reads with TRANSPORT_CLOSED; close is idempotent', async (t) => {
        const transport = await open(t);
        const c = collector(transport);
        await transport.publish(update('a'));
        await c.waitFor(1);
        await transport.close();
        await transport.close();
        await rejectsWith(transport.publish(update('b')), 'TRANSPORT_CLOSED');
        await rejectsWith(transport.replay('earliest'), 'TRANSPORT_CLOSED');
        await rejectsWith(transport.lastId(), 'TRANSPORT_CLOSED');
        await rejectsWith(transport.bounds(), 'TRANSPORT_CLOSED');
        await rejectsWith(transport.read(0, 10, 10), 'TRANSPORT_CLOSED');
        await rejectsWith(transport.positionOf('a'), 'TRANSPORT_CLOSED');
        const unsubscribe = transport.subscribe(() => assert.fail('no update after close'));
        unsubscribe();
        assert.deepEqual(ids(c.received), ['a']);
      });
    });
  });
}
