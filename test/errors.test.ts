import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { errorTable, isSseHubError, SseHubError } from '../src/errors.js';

describe('error table', () => {
  const doc = readFileSync(new URL('../docs/errors.md', import.meta.url), 'utf8');

  for (const [code, { status }] of Object.entries(errorTable)) {
    it(`${code} is documented with its status`, () => {
      const row = doc.split('\n').find((line) => line.startsWith(`| \`${code}\` |`));
      assert.ok(row, `docs/errors.md has no row for ${code}`);
      assert.match(row, new RegExp(`\\| ${status} \\|`));
    });
  }

  it('documents no code the table lacks', () => {
    const documented = [...doc.matchAll(/^\| `([A-Z_]+)` \|/gm)].map((m) => m[1]);
    assert.deepEqual(documented.sort(), Object.keys(errorTable).sort());
  });

  it('errors carry code, status, and a client-safe message', () => {
    const err = new SseHubError('FORBIDDEN', 'topic https://x/1');
    assert.equal(err.code, 'FORBIDDEN');
    assert.equal(err.status, 403);
    assert.equal(err.detail, 'topic https://x/1');
    assert.ok(isSseHubError(err, 'FORBIDDEN'));
    assert.ok(!isSseHubError(err, 'UNAUTHORIZED'));
    assert.ok(!isSseHubError(new Error('x')));
  });
});
