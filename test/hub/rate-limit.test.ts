import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TokenBuckets } from '../../src/hub/http/rate-limit.js';
import { resolveHubOptions } from '../../src/hub/options.js';

/** A clock the test moves by hand (ms). */
function clock(start = 1_000_000) {
  let now = start;
  return {
    now: () => now,
    advance(ms: number) {
      now += ms;
    },
  };
}

describe('TokenBuckets', () => {
  it('lets a burst through, then refuses with the seconds until a token is back', () => {
    const t = clock();
    const buckets = new TokenBuckets(2, 3, 100, t.now);
    assert.deepEqual(
      [1, 2, 3].map(() => buckets.take('a')),
      [0, 0, 0],
    );
    assert.equal(buckets.take('a'), 1);
    // Another key has its own bucket.
    assert.equal(buckets.take('b'), 0);
    t.advance(500); // one token back at 2 a second
    assert.equal(buckets.take('a'), 0);
    assert.equal(buckets.take('a'), 1);
  });

  it('computes Retry-After from the rate: at 1 token per 4 s an empty bucket waits 4 s', () => {
    const t = clock();
    // A rate below 1 a second cannot be configured through the options (integers), but the
    // bucket computes the wait from whatever rate it has.
    const buckets = new TokenBuckets(0.25, 1, 100, t.now);
    assert.equal(buckets.take('a'), 0);
    assert.equal(buckets.take('a'), 4);
    t.advance(3_000);
    assert.equal(buckets.take('a'), 1);
    t.advance(1_000);
    assert.equal(buckets.take('a'), 0);
  });

  it('never holds more than the burst, however long a client was idle', () => {
    const t = clock();
    const buckets = new TokenBuckets(10, 2, 100, t.now);
    buckets.take('a');
    t.advance(60_000);
    assert.deepEqual(
      [1, 2, 3].map(() => buckets.take('a')),
      [0, 0, 1],
    );
  });

  it('drops buckets that have refilled (idle for burst / rate seconds)', () => {
    const t = clock();
    const buckets = new TokenBuckets(20, 40, 100, t.now); // refills in 2 s
    for (let i = 0; i < 50; i++) buckets.take(`client-${i}`);
    assert.equal(buckets.size, 50);
    t.advance(1_999);
    buckets.take('late');
    assert.equal(buckets.size, 51, 'not yet full again: kept');
    t.advance(1);
    buckets.take('later');
    assert.equal(buckets.size, 2, 'the 50 refilled buckets are gone; late and later remain');
  });

  it('keeps at most maxClients buckets under rotating keys, evicting the least recently used', () => {
    const t = clock();
    const buckets = new TokenBuckets(1, 1, 1_000, t.now);
    assert.equal(buckets.take('victim'), 0);
    assert.equal(buckets.take('victim'), 1, 'the victim is limited');
    // An attacker rotating addresses within the refill time: the map never passes the cap.
    for (let i = 0; i < 100_000; i++) {
      buckets.take(`rotating-${i}`);
      if (i % 10_000 === 0) assert.ok(buckets.size <= 1_000);
    }
    assert.equal(buckets.size, 1_000);
    assert.equal(buckets.evicted, 100_000 + 1 - 1_000);
    // The victim's bucket went first (least recently used): it starts again with a full burst.
    assert.equal(buckets.take('victim'), 0);
  });

  it('a client that keeps using its bucket is not evicted before idle ones', () => {
    const t = clock();
    const buckets = new TokenBuckets(1, 5, 3, t.now);
    buckets.take('busy');
    buckets.take('idle-1');
    buckets.take('idle-2');
    buckets.take('busy'); // most recently used now
    buckets.take('new'); // evicts idle-1, the least recently used
    assert.equal(buckets.size, 3);
    for (let i = 0; i < 3; i++) buckets.take('busy');
    assert.equal(buckets.take('busy'), 1, 'busy kept its drained bucket');
  });
});

describe('rate-limit options', () => {
  it('default to 20 subscribes a second per address (burst 40) and 1000 publishes (burst 2000)', () => {
    const o = resolveHubOptions({});
    assert.deepEqual(
      [o.maxSubscribeRate, o.subscribeBurst, o.maxPublishRate, o.publishBurst],
      [20, 40, 1000, 2000],
    );
  });

  it('take 0 (off) for a rate; refuse a burst below 1 and non-integers', () => {
    assert.equal(resolveHubOptions({ maxSubscribeRate: 0 }).maxSubscribeRate, 0);
    assert.equal(resolveHubOptions({ maxPublishRate: 0 }).maxPublishRate, 0);
    assert.throws(() => resolveHubOptions({ subscribeBurst: 0 }), /subscribeBurst/);
    assert.throws(() => resolveHubOptions({ publishBurst: 0 }), /publishBurst/);
    assert.throws(() => resolveHubOptions({ maxSubscribeRate: 1.5 }), /maxSubscribeRate/);
    assert.throws(() => resolveHubOptions({ maxPublishRate: -1 }), /maxPublishRate/);
  });
});
