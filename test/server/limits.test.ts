import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isSseHubError } from '../../src/errors.js';
import {
  connectionsCheckingInterval,
  DEFAULT_HEADERS_TIMEOUT_MS,
  DEFAULT_KEEP_ALIVE_TIMEOUT_MS,
  DEFAULT_MAX_CONNECTIONS,
  DEFAULT_MAX_STREAMS_PER_CONNECTION,
  DEFAULT_REQUEST_TIMEOUT_MS,
  FD_RESERVE,
  parseOpenFilesLimit,
  planConnections,
  readOpenFilesLimit,
  resolveConnectionLimits,
} from '../../src/server/limits.js';

// As Linux prints it (columns padded with spaces).
const LIMITS = `Limit                     Soft Limit           Hard Limit           Units
Max cpu time              unlimited            unlimited            seconds
Max processes             63422                63422                processes
Max open files            20000                1048576              files
Max locked memory         8388608              8388608              bytes
`;

describe('open-file limit', () => {
  it('reads the soft "Max open files" limit', () => {
    assert.equal(parseOpenFilesLimit(LIMITS), 20_000);
    assert.equal(
      parseOpenFilesLimit(LIMITS.replace('20000                1048576', 'unlimited  unlimited')),
      undefined,
    );
    assert.equal(parseOpenFilesLimit('Max processes 10 10 processes\n'), undefined);
    assert.equal(parseOpenFilesLimit(''), undefined);
  });

  it('reads this process limit on Linux', (t) => {
    if (process.platform !== 'linux') {
      t.skip('Linux only');
      return;
    }
    const limit = readOpenFilesLimit();
    assert.ok(limit === undefined || (Number.isSafeInteger(limit) && limit > 0));
  });
});

describe('planConnections', () => {
  it('keeps the default when the limit leaves room for it and the reserve', () => {
    assert.deepEqual(planConnections(undefined, undefined), {
      maxConnections: DEFAULT_MAX_CONNECTIONS,
      lowered: false,
      exceedsFdLimit: false,
    });
    assert.deepEqual(planConnections(undefined, DEFAULT_MAX_CONNECTIONS + FD_RESERVE), {
      maxConnections: DEFAULT_MAX_CONNECTIONS,
      lowered: false,
      exceedsFdLimit: false,
    });
  });

  it('lowers the default below a smaller limit, keeping the reserve', () => {
    assert.deepEqual(planConnections(undefined, 1024), {
      maxConnections: 1024 - FD_RESERVE,
      lowered: true,
      exceedsFdLimit: false,
    });
    // Never down to nothing.
    assert.equal(planConnections(undefined, 100).maxConnections, 16);
  });

  it('keeps a configured value and says when it does not fit', () => {
    assert.deepEqual(planConnections(50_000, 20_000), {
      maxConnections: 50_000,
      lowered: false,
      exceedsFdLimit: true,
    });
    assert.equal(planConnections(20_000 - FD_RESERVE, 20_000).exceedsFdLimit, false);
    assert.equal(planConnections(20_000 - FD_RESERVE + 1, 20_000).exceedsFdLimit, true);
    assert.equal(planConnections(50_000, undefined).exceedsFdLimit, false);
  });
});

describe('resolveConnectionLimits', () => {
  it('applies the defaults', () => {
    const limits = resolveConnectionLimits({}, 1_000_000);
    assert.deepEqual(limits, {
      maxConnections: DEFAULT_MAX_CONNECTIONS,
      lowered: false,
      exceedsFdLimit: false,
      headersTimeoutMs: DEFAULT_HEADERS_TIMEOUT_MS,
      requestTimeoutMs: DEFAULT_REQUEST_TIMEOUT_MS,
      keepAliveTimeoutMs: DEFAULT_KEEP_ALIVE_TIMEOUT_MS,
      maxStreamsPerConnection: DEFAULT_MAX_STREAMS_PER_CONNECTION,
      fdLimit: 1_000_000,
    });
    // Timeouts are checked within a quarter of the headers timeout, at most a second late.
    assert.equal(connectionsCheckingInterval(limits), 1000);
    assert.equal(connectionsCheckingInterval({ ...limits, headersTimeoutMs: 500 }), 125);
  });

  it('a short request timeout lowers the default headers timeout with it', () => {
    const limits = resolveConnectionLimits({ requestTimeoutMs: 2000 }, undefined);
    assert.equal(limits.headersTimeoutMs, 2000);
  });

  it('refuses bad values', () => {
    for (const options of [
      { maxConnections: 0 },
      { maxConnections: 1.5 },
      { headersTimeoutMs: -1 },
      { requestTimeoutMs: 0 },
      { keepAliveTimeoutMs: Number.NaN },
      { headersTimeoutMs: 5000, requestTimeoutMs: 4000 },
      { maxStreamsPerConnection: 0 },
      { maxStreamsPerConnection: 2 ** 32 },
    ]) {
      assert.throws(
        () => resolveConnectionLimits(options, undefined),
        (err: unknown) => isSseHubError(err, 'INVALID_OPTION'),
        JSON.stringify(options),
      );
    }
  });
});
