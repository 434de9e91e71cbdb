import assert from 'node:assert/strict';
import { availableParallelism } from 'node:os';
import { describe, it } from 'node:test';
import {
  RESTART_BASE_MS,
  RESTART_MAX_MS,
  RESTART_STABLE_MS,
  RestartBackoff,
} from '../../src/cli/cluster/backoff.js';
import { resolveServeConfig } from '../../src/cli/config.js';
import { isSseHubError } from '../../src/errors.js';

const secret = () => 'generated-secret';

describe('--workers / SSEHUB_WORKERS', () => {
  it('defaults to 1 (one process, as before); takes an integer or auto', () => {
    assert.equal(resolveServeConfig({}, {}, secret).workers, 1);
    assert.equal(resolveServeConfig({ workers: '4' }, {}, secret).workers, 4);
    assert.equal(resolveServeConfig({}, { SSEHUB_WORKERS: '3' }, secret).workers, 3);
    assert.equal(
      resolveServeConfig({ workers: 'auto' }, {}, secret).workers,
      availableParallelism(),
    );
    assert.equal(
      resolveServeConfig({}, { SSEHUB_WORKERS: 'AUTO' }, secret).workers,
      availableParallelism(),
    );
    // The flag wins over the variable.
    assert.equal(resolveServeConfig({ workers: '2' }, { SSEHUB_WORKERS: '5' }, secret).workers, 2);
  });

  it('refuses anything else, naming the flag or variable', () => {
    for (const [flags, env, name] of [
      [{ workers: '0' }, {}, '--workers'],
      [{ workers: '-1' }, {}, '--workers'],
      [{ workers: '1.5' }, {}, '--workers'],
      [{ workers: 'many' }, {}, '--workers'],
      [{ workers: '5000' }, {}, '--workers'],
      [{}, { SSEHUB_WORKERS: 'two' }, 'SSEHUB_WORKERS'],
    ] as const) {
      assert.throws(
        () => resolveServeConfig(flags, env, secret),
        (err: unknown) =>
          isSseHubError(err, 'INVALID_CONFIG') &&
          err.message.includes(name) &&
          /auto/.test(err.message),
      );
    }
  });
});

describe('RestartBackoff', () => {
  it('doubles while a worker keeps dying young, up to a bound; a stable run starts over', () => {
    const backoff = new RestartBackoff();
    const delays = Array.from({ length: 10 }, () => backoff.next(5));
    assert.equal(delays[0], RESTART_BASE_MS);
    assert.equal(delays[1], RESTART_BASE_MS * 2);
    for (let i = 1; i < delays.length; i++) assert.ok(delays[i]! >= delays[i - 1]!);
    assert.equal(delays.at(-1), RESTART_MAX_MS);
    assert.equal(backoff.next(RESTART_STABLE_MS), RESTART_BASE_MS);
    assert.equal(backoff.failures, 1);
  });
});
