import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  defaultRetryDelay,
  MIN_RECONNECT_DELAY_MS,
  nextDelay,
  parseRetryAfter,
} from '../../src/client/backoff.js';
import { parseLinkHeader } from '../../src/client/link-header.js';

const sequence = (...values: number[]) => {
  let i = 0;
  return () => values[i++ % values.length] as number;
};

describe('backoff: nextDelay', () => {
  it('doubles the cap per attempt up to max (random at the top of its range)', () => {
    const top = () => 0.999_999;
    const schedule = [0, 1, 2, 3, 4, 5, 6].map((a) => nextDelay(a, 100, 1000, top));
    assert.deepEqual(schedule, [100, 200, 400, 800, 1000, 1000, 1000]);
  });

  it('is full jitter: anywhere in [0, cap], including both ends', () => {
    assert.equal(
      nextDelay(3, 100, 10_000, () => 0),
      0,
    );
    assert.equal(
      nextDelay(3, 100, 10_000, () => 0.5),
      400,
    );
    assert.equal(
      nextDelay(3, 100, 10_000, () => 0.999_999),
      800,
    );
  });

  it('gives distinct values within the cap for distinct random draws', () => {
    const random = sequence(0.13, 0.71, 0.42, 0.96, 0.05, 0.58);
    const delays = [0, 1, 2, 3, 4, 5].map((a) => nextDelay(a, 1000, 30_000, random));
    const caps = [1000, 2000, 4000, 8000, 16_000, 30_000];
    delays.forEach((d, i) => {
      assert.ok(Number.isInteger(d) && d >= 0 && d <= (caps[i] as number), `${d} within cap`);
    });
    assert.equal(new Set(delays).size, delays.length);
  });

  it('survives huge attempts, zero base and a bad random source', () => {
    assert.equal(
      nextDelay(10_000, 100, 5000, () => 0.999_999),
      5000,
    );
    assert.equal(
      nextDelay(3, 0, 5000, () => 0.5),
      0,
    );
    assert.equal(
      nextDelay(0, 100, 5000, () => Number.NaN),
      0,
    );
    assert.equal(
      nextDelay(0, 100, 5000, () => 7),
      0,
    );
  });

  it('default policy prefers Retry-After', () => {
    assert.equal(
      defaultRetryDelay(4, 100, 1000, () => 0.999_999, 120_000),
      120_000,
    );
    assert.equal(
      defaultRetryDelay(4, 100, 1000, () => 0.999_999, undefined),
      1000,
    );
  });
});

describe('backoff: the reconnect floor', () => {
  it('jitters over [min, cap] and gives min when the cap is below it', () => {
    assert.equal(
      nextDelay(0, 0, 5000, () => 0.5, 100),
      100,
    );
    assert.equal(
      nextDelay(0, 300, 5000, () => 0, 100),
      100,
    );
    assert.equal(
      nextDelay(0, 300, 5000, () => 0.999_999, 100),
      300,
    );
  });

  it('the default policy never goes below MIN_RECONNECT_DELAY_MS, on any attempt', () => {
    for (const attempt of [0, 1, 5]) {
      assert.equal(defaultRetryDelay(attempt, 0, 30_000, Math.random, undefined), 100);
      assert.equal(defaultRetryDelay(attempt, 3000, 0, Math.random, undefined), 100);
      assert.equal(
        defaultRetryDelay(attempt, 3000, 30_000, () => 0, undefined),
        100,
      );
      assert.equal(
        defaultRetryDelay(attempt, 3000, 30_000, () => 0, 0),
        100,
      );
    }
    assert.equal(MIN_RECONNECT_DELAY_MS, 100);
  });
});

describe('backoff: parseRetryAfter', () => {
  const now = Date.parse('Wed, 21 Oct 2015 07:28:00 GMT');
  it('reads delay-seconds', () => {
    assert.equal(parseRetryAfter('120', now), 120_000);
    assert.equal(parseRetryAfter(' 0 ', now), 0);
  });
  it('reads an HTTP date relative to now; the past means 0', () => {
    assert.equal(parseRetryAfter('Wed, 21 Oct 2015 07:28:30 GMT', now), 30_000);
    assert.equal(parseRetryAfter('Wed, 21 Oct 2015 07:00:00 GMT', now), 0);
  });
  it('ignores absent or unreadable values', () => {
    assert.equal(parseRetryAfter(null, now), undefined);
    assert.equal(parseRetryAfter('', now), undefined);
    assert.equal(parseRetryAfter('soon', now), undefined);
  });
});

describe('link header', () => {
  it('parses several links, several rels and quoted commas', () => {
    const links = parseLinkHeader(
      '<https://hub.example/.well-known/mercure>; rel="mercure", </books/1>; rel=self, ' +
        '<https://a.example/x,y>; rel="Mercure alternate"; title="a, b; c"',
    );
    assert.deepEqual(
      links.map((l) => [l.href, l.rel]),
      [
        ['https://hub.example/.well-known/mercure', ['mercure']],
        ['/books/1', ['self']],
        ['https://a.example/x,y', ['mercure', 'alternate']],
      ],
    );
    assert.equal(links[2]?.params.title, 'a, b; c');
  });
  it('skips malformed links and keeps the first rel', () => {
    const links = parseLinkHeader('garbage, <a>; rel=one; rel=two, <b');
    assert.deepEqual(
      links.map((l) => [l.href, l.rel]),
      [['a', ['one']]],
    );
    assert.deepEqual(parseLinkHeader(''), []);
  });
});
