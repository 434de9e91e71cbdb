import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { createSqliteTransport } from '../../src/transport/sqlite.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const fixture = fileURLToPath(new URL('./fixtures/sqlite-publisher.ts', import.meta.url));
const ACKS_BEFORE_KILL = 50;
const WAIT_MS = 10_000;

it('every update acknowledged before a SIGKILL is in the file afterwards, in order', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ssehub-crash-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'hub.db');

  const child = spawn(process.execPath, ['--import', 'tsx', fixture, path], {
    cwd: root,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  t.after(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });

  let output = '';
  let killed = false;
  const closed = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>(
    (resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`no ${ACKS_BEFORE_KILL} acknowledgements in ${WAIT_MS} ms: ${stderr}`));
      }, WAIT_MS);
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
        output += chunk;
        if (!killed && output.split('\n').length - 1 >= ACKS_BEFORE_KILL) {
          killed = true;
          child.kill('SIGKILL');
        }
      });
      // 'close' fires after stdout has been read to its end, so every printed id is in output.
      child.on('close', (code, signal) => {
        clearTimeout(timer);
        resolve({ code, signal });
      });
    },
  );
  const exit = await closed;
  assert.deepEqual(exit, { code: null, signal: 'SIGKILL' }, `child ended early: ${stderr}`);

  // A line cut off by the kill was never fully printed; only complete lines count.
  const acknowledged = output.split('\n').slice(0, -1);
  assert.ok(acknowledged.length >= ACKS_BEFORE_KILL);
  assert.deepEqual(
    acknowledged,
    acknowledged.map((_, i) => `urn:test:${i}`),
  );

  const transport = createSqliteTransport({ path, maxHistory: Number.POSITIVE_INFINITY });
  t.after(() => transport.close());
  const { found, updates } = await transport.replay('earliest');
  assert.equal(found, true);
  const stored = updates.map((u) => u.id);
  // The child may have committed one more update than it managed to print.
  assert.ok(stored.length >= acknowledged.length && stored.length <= acknowledged.length + 1);
  assert.deepEqual(stored.slice(0, acknowledged.length), acknowledged);
  const last = updates[acknowledged.length - 1]!;
  assert.equal(last.private, (acknowledged.length - 1) % 3 === 0);
  assert.equal(await transport.lastId(), stored[stored.length - 1]);
});
