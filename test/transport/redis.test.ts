import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { isSseHubError } from '../../src/errors.js';
import { createTransport } from '../../src/transport/index.js';
import { entryPosition } from '../../src/transport/redis/codec.js';
import {
  createRedisTransport,
  RedisTransport,
  type RedisTransportOptions,
} from '../../src/transport/redis/index.js';
import type { FeedGap, Transport } from '../../src/transport/types.js';
import { type RedisServer, startRedisServer, uniquePrefix } from '../helpers/redis-server.js';
import { transportConformance } from './conformance.js';
import { twoNodeConformance } from './conformance-two-nodes.js';
import { collector, ids, publishAll, range, rejectsWith, update, WAIT_MS } from './helpers.js';

type TestContext = { after(fn: () => unknown): void };

// One server for the file; every transport gets its own key prefix. Tests that stop or restart
// the server start one of their own.
let shared: Promise<RedisServer> | undefined;
function server(): Promise<RedisServer> {
  shared ??= startRedisServer();
  return shared;
}
after(async () => {
  if (shared) await (await shared).dispose();
});

// Short waits, so a test that needs the feed to notice something does not sit in XREAD long.
const FAST = { blockMs: 100, commandTimeoutMs: 1000, connectTimeoutMs: 5000 };

async function open(
  t: TestContext,
  target: RedisServer,
  options: RedisTransportOptions = {},
): Promise<RedisTransport> {
  const transport = await createRedisTransport({
    host: target.host,
    port: target.port,
    keyPrefix: uniquePrefix(),
    ...FAST,
    ...options,
  });
  t.after(() => transport.close());
  return transport;
}

async function raw(t: TestContext, target: RedisServer): Promise<Redis> {
  const client = new Redis({ host: target.host, port: target.port, lazyConnect: true });
  await client.connect();
  t.after(() => client.disconnect());
  return client;
}

/** Retries `check` until it holds (a reconnect, an expiry); fails after WAIT_MS. */
async function eventually<T>(what: string, check: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + WAIT_MS;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) {
      throw new Error(`${what} did not happen in ${WAIT_MS} ms (last error: ${String(last)})`);
    }
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/**
 * Publishes `id` once Redis answers again. An attempt that timed out may still have been stored,
 * and a reused id is stored again (not refused), so a retry first asks whether it was.
 */
async function publishEventually(transport: Transport, id: string): Promise<void> {
  let tried = false;
  await eventually(`publishing ${id}`, async () => {
    if (tried && (await transport.positionOf(id)) !== undefined) return true;
    tried = true;
    await transport.publish(update(id));
    return true;
  });
}

/** Resolves with what `gaps` holds once it has `n` entries; fails after WAIT_MS. */
function gapRecorder(transport: Transport) {
  const gaps: FeedGap[] = [];
  const waiters: (() => void)[] = [];
  const off = transport.subscribe(
    () => {},
    (gap) => {
      gaps.push(gap);
      for (const w of waiters.splice(0)) w();
    },
  );
  return {
    gaps,
    off,
    async waitFor(n: number): Promise<FeedGap[]> {
      await eventually(`${n} gap(s)`, async () => {
        if (gaps.length >= n) return true;
        await new Promise<void>((resolve) => {
          waiters.push(resolve);
          setTimeout(resolve, 200).unref();
        });
        return gaps.length >= n ? true : undefined;
      });
      return gaps;
    },
  };
}

transportConformance('redis', async (options) => {
  const target = await server();
  const transport = await createRedisTransport({
    host: target.host,
    port: target.port,
    keyPrefix: uniquePrefix('c'),
    ...FAST,
    ...options,
  });
  return { transport, cleanup: () => transport.close() };
});

twoNodeConformance('redis', async (options) => {
  const target = await server();
  const common = {
    host: target.host,
    port: target.port,
    keyPrefix: uniquePrefix('n'),
    ...FAST,
    // The smallest feed window: the stream keeps no more than maxHistory (and the newest), so a
    // lagging feed falls behind retention as on the other transports.
    feedWindow: 1,
    ...options,
  };
  const a = await createRedisTransport(common);
  const b = await createRedisTransport(common);
  return {
    a,
    b,
    lag: () => b.pauseFeed(),
    cleanup: async () => {
      await a.close();
      await b.close();
    },
  };
});

describe('Redis transport', () => {
  it('trims the id index with the stream: a trimmed id resolves to nothing and can be published again', async (t) => {
    const target = await server();
    const transport = await open(t, target, { maxHistory: 2 });
    await publishAll(transport, ['a', 'b', 'c']);
    assert.equal(await transport.positionOf('a'), undefined);
    assert.equal(typeof (await transport.positionOf('b')), 'number');
    await transport.publish(update('a', { data: 'second a' }));
    const { updates } = await transport.replay('earliest');
    assert.deepEqual(ids(updates), ['c', 'a']);
    assert.equal(updates[1]!.data, 'second a');
  });

  it('keeps exactly the retained entries in Redis, index included, also after a large expiry', async (t) => {
    const target = await server();
    const client = await raw(t, target);
    const keyPrefix = uniquePrefix('trim');
    let now = 1_700_000_000_000;
    const transport = await open(t, target, {
      keyPrefix,
      maxHistory: 100,
      maxHistoryAgeMs: 1000,
      trimBatchSize: 3,
      now: () => now,
    });
    await publishAll(transport, range(20));
    assert.equal(await client.xlen(`${keyPrefix}stream`), 20);
    assert.equal(await client.hlen(`${keyPrefix}index`), 20);
    now += 5000; // all 20 expired
    await transport.publish(update('fresh'));
    // One publish trims at most trimBatchSize entries, so it stays cheap...
    assert.equal(await client.xlen(`${keyPrefix}stream`), 21 - 3);
    // ...and a read finishes the job before it answers: it never sees an expired update.
    assert.deepEqual(ids((await transport.replay('earliest')).updates), ['fresh']);
    assert.equal(await client.xlen(`${keyPrefix}stream`), 1);
    assert.deepEqual(await client.hkeys(`${keyPrefix}index`), ['fresh']);
    assert.equal(await transport.positionOf('u3'), undefined);
    await transport.publish(update('u3')); // stored again: the index holds the new one alone
    assert.equal(
      await client.hget(`${keyPrefix}index`, 'u3'),
      `${(await transport.bounds()).newest}-0`,
    );
  });

  for (const maxHistory of [0, 5]) {
    it(`with maxHistory ${maxHistory}, another node's feed gets every update of concurrent bursts, reads at most ${maxHistory}`, async (t) => {
      const target = await server();
      const keyPrefix = uniquePrefix('window');
      const a = await open(t, target, { keyPrefix, maxHistory });
      const b = await open(t, target, { keyPrefix, maxHistory });
      const onB = collector(b);
      const gaps = gapRecorder(b);
      t.after(() => {
        onB.unsubscribe();
        gaps.off();
      });
      const all: string[] = [];
      for (let round = 0; round < 10; round++) {
        const burst = range(20, `r${round}-`);
        all.push(...burst);
        await Promise.all(burst.map((id) => a.publish(update(id))));
      }
      await onB.waitFor(all.length);
      assert.deepEqual(ids(onB.received).sort(), [...all].sort());
      assert.deepEqual(gaps.gaps, []);
      const { updates } = await b.replay('earliest');
      assert.equal(updates.length, maxHistory);
      const { oldest, newest } = await b.bounds();
      assert.equal(newest, all.length);
      assert.equal(oldest, all.length - maxHistory + 1);
      assert.equal((await b.read(0, newest, 1000)).length, maxHistory);
      assert.equal(await b.positionOf(all[all.length - 1 - maxHistory]!), undefined);
      assert.equal(await b.lastId(), maxHistory === 0 ? undefined : ids(updates).at(-1));
      // An id kept in the stream only for the feed window is not retained: it can come again.
      await a.publish(update(all[0]!));
    });
  }

  it('keeps every key under the prefix', async (t) => {
    const target = await server();
    const client = await raw(t, target);
    const keyPrefix = uniquePrefix('keys');
    const transport = await open(t, target, { keyPrefix });
    await transport.publish(update('x'));
    await transport.addPresence([{ key: 'k', group: 'g', value: 'v' }]);
    const keys = await client.keys(`${keyPrefix}*`);
    assert.ok(keys.length >= 5, `keys: ${keys.join(', ')}`);
    const other = await open(t, target, { keyPrefix: uniquePrefix('keys') });
    assert.equal(await other.lastId(), undefined, 'another prefix sees nothing');
    assert.deepEqual(await other.listPresence(), []);
  });

  it('fails fast on a bad option and when Redis cannot be reached, never echoing the password', async () => {
    await assert.rejects(createRedisTransport({ port: 70000 }), (err: unknown) =>
      isSseHubError(err, 'INVALID_OPTION'),
    );
    await assert.rejects(createRedisTransport({ blockMs: 0 }), (err: unknown) =>
      isSseHubError(err, 'INVALID_OPTION'),
    );
    // Port 1 on loopback refuses connections.
    await assert.rejects(
      createTransport('redis://user:hunter2-secret@127.0.0.1:1/0?connectTimeoutMs=2000'),
      (err: unknown) =>
        isSseHubError(err, 'TRANSPORT_UNAVAILABLE') &&
        !err.message.includes('hunter2-secret') &&
        !(err.detail ?? '').includes('hunter2-secret'),
    );
  });

  it('authenticates with the URL credentials; a wrong password fails without echoing it', async (t) => {
    const target = await startRedisServer({
      own: true,
      extraArgs: ['--requirepass', 'right-pass'],
    });
    let good: Transport | undefined;
    t.after(async () => {
      await good?.close();
      await target.dispose();
    });
    good = await createTransport(
      `redis://:right-pass@127.0.0.1:${target.port}/2?prefix=${encodeURIComponent(uniquePrefix())}`,
    );
    assert.ok(good instanceof RedisTransport);
    await good.publish(update('a'));
    assert.equal(await good.lastId(), 'a');
    await assert.rejects(
      createTransport(`redis://:wrong-pass-42@127.0.0.1:${target.port}?connectTimeoutMs=2000`),
      (err: unknown) =>
        isSseHubError(err, 'TRANSPORT_UNAVAILABLE') && !err.message.includes('wrong-pass-42'),
    );
  });

  it('with Redis down, publish fails in bounded time and health says so; after a restart with data nothing is lost', async (t) => {
    const target = await startRedisServer({ own: true });
    t.after(() => target.dispose());
    const keyPrefix = uniquePrefix('restart');
    const errors: unknown[] = [];
    const onError = (err: unknown) => errors.push(err);
    const a = await open(t, target, { keyPrefix, onError });
    const b = await open(t, target, { keyPrefix, onError });
    const onB = collector(b);
    const gaps = gapRecorder(b);
    t.after(() => {
      onB.unsubscribe();
      gaps.off();
    });
    await a.publish(update('before'));
    await onB.waitFor(1);
    const { epoch } = await a.bounds();
    assert.deepEqual(await a.health(), { ok: true });

    await target.stop({ keepData: true });
    await rejectsWith(a.publish(update('while-down')), 'TRANSPORT_FAILURE');
    assert.deepEqual(await a.health(), { ok: false, reason: 'redis unreachable' });
    await rejectsWith(a.bounds(), 'TRANSPORT_UNAVAILABLE');
    await rejectsWith(a.listPresence(), 'TRANSPORT_UNAVAILABLE');

    await target.start();
    await eventually('a healthy again', async () => ((await a.health()).ok ? true : undefined));
    await publishEventually(a, 'after');
    await onB.waitForId('after');
    assert.deepEqual(ids(onB.received), ['before', 'after']);
    assert.deepEqual(gaps.gaps, []);
    assert.equal((await b.bounds()).epoch, epoch);
    assert.deepEqual(ids((await b.replay('earliest')).updates), ['before', 'after']);
    assert.equal(await b.positionOf('before'), 1);
    // The feeds reported the outage (once each, not once per retry), without the URL.
    assert.ok(errors.length >= 1 && errors.length <= 4, `${errors.length} errors`);
    for (const err of errors) assert.ok(isSseHubError(err, 'TRANSPORT_UNAVAILABLE'));
  });

  it('a feed whose connection drops reconnects and resumes from its last position: nothing lost, nothing twice', async (t) => {
    const target = await server();
    const client = await raw(t, target);
    const keyPrefix = uniquePrefix('reconnect');
    const errors: unknown[] = [];
    const a = await open(t, target, { keyPrefix, onError: (err) => errors.push(err) });
    const b = await open(t, target, { keyPrefix, onError: (err) => errors.push(err) });
    const onB = collector(b);
    const gaps = gapRecorder(b);
    t.after(() => {
      onB.unsubscribe();
      gaps.off();
    });
    await publishAll(a, range(3, 'before'));
    await onB.waitFor(3);
    // Cut every feed connection on the server (both transports'); they reconnect on their own.
    const list = await client.client('LIST');
    const feeds = String(list)
      .split('\n')
      .filter((line) => line.includes('name=ssehub-feed'))
      .map((line) => /(?:^| )id=(\d+)/.exec(line)?.[1])
      .filter((id): id is string => id !== undefined);
    assert.ok(feeds.length >= 2, 'both feed connections found');
    for (const id of feeds) await client.client('KILL', 'ID', id);
    await publishAll(a, range(20, 'during'));
    await onB.waitFor(23);
    assert.deepEqual(ids(onB.received), [...range(3, 'before'), ...range(20, 'during')]);
    assert.deepEqual(gaps.gaps, []);
    assert.ok(errors.length >= 1, 'the dropped feed was reported');
  });

  it('with Redis frozen (connections open, no answers), publish and health give up after commandTimeoutMs', async (t) => {
    const target = await startRedisServer({ own: true });
    t.after(() => target.dispose());
    const errors: unknown[] = [];
    const a = await open(t, target, { commandTimeoutMs: 300, onError: (err) => errors.push(err) });
    const c = collector(a);
    t.after(() => c.unsubscribe());
    await a.publish(update('before'));
    target.freeze();
    t.after(() => target.thaw());
    await rejectsWith(a.publish(update('frozen')), 'TRANSPORT_FAILURE');
    assert.deepEqual(await a.health(), { ok: false, reason: 'redis unreachable' });
    target.thaw();
    await publishEventually(a, 'after');
    await c.waitForId('after');
    // "frozen" timed out on our side but may have been stored once Redis went on; nothing twice.
    const got = ids(c.received);
    assert.equal(new Set(got).size, got.length);
    assert.deepEqual(
      got.filter((id) => id !== 'frozen'),
      ['before', 'after'],
    );
  });

  it('closes promptly while Redis is down; later calls reject TRANSPORT_CLOSED', async (t) => {
    const target = await startRedisServer({ own: true });
    t.after(() => target.dispose());
    const a = await open(t, target, { onError: () => {} });
    await a.addPresence([{ key: 'k', group: 'g', value: 'v' }]);
    await target.stop();
    await a.close();
    await rejectsWith(a.publish(update('x')), 'TRANSPORT_CLOSED');
    await rejectsWith(a.listPresence(), 'TRANSPORT_CLOSED');
    assert.deepEqual(await a.health(), { ok: false, reason: 'transport closed' });
  });

  it('a restart without data is a loss: a lost gap with a new epoch, and old ids no longer resolve', async (t) => {
    const target = await startRedisServer({ own: true });
    t.after(() => target.dispose());
    const keyPrefix = uniquePrefix('lost');
    const errors: unknown[] = [];
    const a = await open(t, target, { keyPrefix, onError: (err) => errors.push(err) });
    const b = await open(t, target, { keyPrefix, onError: (err) => errors.push(err) });
    const onB = collector(b);
    const gaps = gapRecorder(b);
    t.after(() => {
      onB.unsubscribe();
      gaps.off();
    });
    await publishAll(a, ['old1', 'old2']);
    await onB.waitFor(2);
    const { epoch } = await b.bounds();

    await target.stop(); // killed: the data is gone
    await target.start();
    await publishEventually(a, 'new1');
    await onB.waitForId('new1');
    const [gap] = await gaps.waitFor(1);
    assert.equal(gap!.reason, 'lost');
    assert.notEqual(gap!.epoch, epoch);
    assert.equal((await b.bounds()).epoch, gap!.epoch);
    assert.equal(await b.positionOf('old1'), undefined);
    assert.equal(await a.positionOf('old2'), undefined);
    const { found } = await b.replay('old2');
    assert.equal(found, false);
    assert.deepEqual(ids(onB.received), ['old1', 'old2', 'new1']);
    await a.publish(update('old1')); // the id means nothing in the new epoch
  });

  it('positions going backwards in the same epoch (writes lost in a failover) begin a new epoch', async (t) => {
    const target = await server();
    const client = await raw(t, target);
    const keyPrefix = uniquePrefix('failover');
    const a = await open(t, target, { keyPrefix });
    const b = await open(t, target, { keyPrefix });
    const onB = collector(b);
    const gaps = gapRecorder(b);
    t.after(() => {
      onB.unsubscribe();
      gaps.off();
    });
    await publishAll(a, range(5));
    await onB.waitFor(5);
    const { epoch } = await b.bounds();
    await becomeReplicaThatMissed(client, keyPrefix, ['u2', 'u3', 'u4']);
    const [gap] = await gaps.waitFor(1);
    assert.equal(gap!.reason, 'lost');
    assert.notEqual(gap!.epoch, epoch);
    assert.equal(gap!.resumeAfter, 2);
    assert.equal((await a.bounds()).epoch, gap!.epoch);
    // Ids from before the loss never map to positions of the new epoch.
    assert.equal(await a.positionOf('u0'), undefined);
    await a.publish(update('next'));
    await onB.waitForId('next');
    assert.equal(await b.positionOf('next'), 3);
    assert.equal(gaps.gaps.length, 1, 'both nodes agree on one new epoch');
  });

  for (const publisher of ['the node that delivered them', 'a node started after the loss']) {
    it(`writes lost in a failover and their positions refilled at once (by ${publisher}) are reported lost, never skipped silently`, async (t) => {
      const target = await server();
      const client = await raw(t, target);
      const keyPrefix = uniquePrefix('refill');
      const a = await open(t, target, { keyPrefix });
      const b = await open(t, target, { keyPrefix });
      const onB = collector(b);
      const gaps = gapRecorder(b);
      t.after(() => {
        onB.unsubscribe();
        gaps.off();
      });
      await publishAll(a, range(5));
      await onB.waitFor(5);
      const { epoch } = await b.bounds();
      // Publishing goes on right away: the lost positions 3..5 are handed out again before any
      // feed checks the store.
      await becomeReplicaThatMissed(client, keyPrefix, ['u2', 'u3', 'u4']);
      const stream = `${keyPrefix}stream`;
      const source = publisher.startsWith('the node') ? a : await open(t, target, { keyPrefix });
      const acknowledged = ['n1', 'n2', 'n3', 'n4'];
      await publishAll(source, acknowledged);
      const [gap] = await gaps.waitFor(1);
      assert.equal(gap!.reason, 'lost');
      assert.notEqual(gap!.epoch, epoch);
      // Where each acknowledged update was stored (the stream keeps them all: no trim here).
      const stored = (await client.xrange(stream, '-', '+')) as [string, string[]][];
      const positionOf = new Map(
        stored.map(([entry, fields]) => [fields[1]!, entryPosition(entry)]),
      );
      for (const id of acknowledged) {
        const position = positionOf.get(id);
        assert.ok(position !== undefined, `${id} stored`);
        // Covered by the gap (at or before where the new epoch began), or delivered after it.
        if (position <= gap!.resumeAfter) continue;
        await onB.waitForId(id);
      }
      assert.equal((await a.bounds()).epoch, (await b.bounds()).epoch);
    });
  }

  it('shares presence across nodes; a node that stops refreshing drops out within the TTL', async (t) => {
    const target = await server();
    const keyPrefix = uniquePrefix('presence');
    const a = await open(t, target, { keyPrefix, presenceTtlMs: 300 });
    const b = await open(t, target, { keyPrefix, presenceTtlMs: 300 });
    await a.addPresence([
      { key: 's1', group: 'topic-1', value: '{"id":"s1"}' },
      { key: 's2', group: 'topic-2', value: '{"id":"s2"}' },
    ]);
    await b.addPresence([{ key: 's3', group: 'topic-1', value: '{"id":"s3"}' }]);
    const keys = async (node: Transport & RedisTransport, group?: string) =>
      (await node.listPresence(group)).map((e) => e.key).sort();
    assert.deepEqual(await keys(b), ['s1', 's2', 's3']);
    assert.deepEqual(await keys(a, 'topic-1'), ['s1', 's3']);
    assert.deepEqual(await b.getPresence('s2'), {
      key: 's2',
      group: 'topic-2',
      value: '{"id":"s2"}',
    });
    assert.equal(await b.getPresence('nope'), undefined);
    await a.removePresence(['s2']);
    assert.equal(await b.getPresence('s2'), undefined);

    // Refreshed entries outlive the TTL while the node lives...
    await eventually('several refreshes', async () => {
      await new Promise((resolve) => setTimeout(resolve, 100));
      return (await keys(b)).length === 2 ? true : undefined;
    });
    // ...and disappear once it stops refreshing, as a dead node's would.
    a.stopPresenceRefresh();
    await eventually("a's entries expiring", async () =>
      (await keys(b)).join() === 's3' ? true : undefined,
    );
    // A graceful close removes the node's entries at once.
    await b.close();
    assert.deepEqual(await keys(a), []);
  });

  it('presence written while Redis was away is right again after the next refresh', async (t) => {
    const target = await startRedisServer({ own: true });
    t.after(() => target.dispose());
    const keyPrefix = uniquePrefix('blip');
    const options = { keyPrefix, presenceTtlMs: 3000, onError: () => {} };
    const a = await open(t, target, options);
    const b = await open(t, target, options);
    await a.addPresence([
      { key: 'gone', group: 'g', value: 'v' },
      { key: 'alive', group: 'g', value: 'v' },
    ]);
    const keys = async () => (await b.listPresence()).map((e) => e.key).sort();
    assert.deepEqual(await keys(), ['alive', 'gone']);
    // A blip: Redis restarts with its data (a's hash as it was), and a's writes meanwhile fail.
    await target.stop({ keepData: true });
    await rejectsWith(a.removePresence(['gone']), 'TRANSPORT_UNAVAILABLE');
    await rejectsWith(
      a.addPresence([{ key: 'added', group: 'g', value: 'v' }]),
      'TRANSPORT_UNAVAILABLE',
    );
    await target.start();
    await eventually("a's refresh rewriting its entries", async () =>
      (await keys()).join() === 'added,alive' ? true : undefined,
    );
  });

  it('lists presence in bounded pages, every entry once, and at most maxPresenceListing', async (t) => {
    const target = await server();
    const keyPrefix = uniquePrefix('listing');
    const a = await open(t, target, { keyPrefix });
    const b = await open(t, target, { keyPrefix });
    const capped = await open(t, target, { keyPrefix, maxPresenceListing: 50 });
    // Enough entries for a hash Redis scans in several pages.
    const many = range(1500, 's').map((key, i) => ({
      key,
      group: i % 3 === 0 ? 'third' : 'rest',
      value: `{"n":${i}}`,
    }));
    await a.addPresence(many);
    await b.addPresence([{ key: 'b1', group: 'third', value: '{}' }]);
    const all = (await b.listPresence()).map((e) => e.key).sort();
    assert.deepEqual(all, [...many.map((e) => e.key), 'b1'].sort());
    assert.equal((await a.listPresence('third')).length, 501);
    assert.equal((await capped.listPresence()).length, 50);
    assert.equal((await capped.listPresence('third')).length, 50);
    assert.deepEqual(await capped.getPresence('s1499'), many[1499]);
    assert.deepEqual(await a.getPresence('b1'), { key: 'b1', group: 'third', value: '{}' });
  });

  it('is built from a redis:// URL through createTransport', async (t) => {
    const target = await server();
    const prefix = uniquePrefix('url');
    const transport = await createTransport(
      `${target.url}?prefix=${encodeURIComponent(prefix)}&maxHistory=2&feedWindow=2&blockMs=100`,
    );
    t.after(() => transport.close());
    assert.ok(transport instanceof RedisTransport);
    await publishAll(transport, ['a', 'b', 'c']);
    assert.deepEqual(ids((await transport.replay('earliest')).updates), ['b', 'c']);
    const client = await raw(t, target);
    assert.equal(await client.xlen(`${prefix}stream`), 2);
  });
});

/**
 * Rewrites the store under `keyPrefix` into what a replica that missed the newest `lost` writes
 * looks like after a failover: same epoch, a shorter stream and index, the sequence set back.
 */
async function becomeReplicaThatMissed(
  client: Redis,
  keyPrefix: string,
  lost: readonly string[],
): Promise<void> {
  const stream = `${keyPrefix}stream`;
  const length = await client.xlen(stream);
  const keep = length - lost.length;
  const kept = (await client.xrange(stream, '-', '+', 'COUNT', keep)) as [string, string[]][];
  const replica = client.multi().del(stream);
  for (const [id, fields] of kept) replica.xadd(stream, id, ...fields);
  await replica
    .hdel(`${keyPrefix}index`, ...lost)
    .set(`${keyPrefix}seq`, keep)
    .exec();
}
