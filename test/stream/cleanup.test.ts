import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const CHURN = fileURLToPath(new URL('./fixtures/churn.ts', import.meta.url));
const TOTAL = 3000;
const BATCH = 500;

interface ChurnResult {
  total: number;
  reasons: Record<string, number>;
  peakOpen: number;
  openStreams: number;
  heartbeatsRegistered: number;
  heartbeatTimerRunning: boolean;
  listenersBefore: number;
  listenersAfter: number;
  trackedObjects: number;
  aliveObjects: number;
  heapBefore: number;
  peakHeap: number;
  heapAfter: number;
}

// The churn runs in a child with --expose-gc so the heap can be measured after real collections.
function runChurn(): Promise<ChurnResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--expose-gc', '--import', 'tsx', CHURN, String(TOTAL), String(BATCH)],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => {
      out += c;
    });
    child.stderr.on('data', (c: Buffer) => {
      err += c;
    });
    child.on('error', reject);
    child.on('exit', (code) => {
      if (code !== 0) reject(new Error(`churn exited with ${code}: ${err}`));
      else resolve(JSON.parse(out.trim().split('\n').at(-1) ?? '{}') as ChurnResult);
    });
  });
}

describe('clean-up after disconnects', () => {
  it(`releases every timer, listener and stream after ${TOTAL} connections come and go`, async () => {
    const r = await runChurn();
    assert.equal(r.total, TOTAL);
    assert.deepEqual(r.reasons, { client: TOTAL / 2, server: TOTAL / 2 });
    assert.equal(r.peakOpen, BATCH, 'each batch was open at the same time');
    assert.equal(r.openStreams, 0);
    assert.equal(r.heartbeatsRegistered, 0, 'no stream is left in the heartbeat sweep');
    assert.equal(r.heartbeatTimerRunning, false, 'the shared heartbeat timer is gone');
    assert.equal(r.listenersAfter, r.listenersBefore);
    assert.equal(r.trackedObjects, 3 * TOTAL);
    assert.equal(r.aliveObjects, 0, 'no stream, request or response survives a full GC');
    // Each open connection costs tens of KB, so a leak of even a tenth of them would show.
    const perBatch = r.peakHeap - r.heapBefore;
    assert.ok(perBatch > 0);
    assert.ok(
      r.heapAfter - r.heapBefore < Math.max(perBatch / 2, 4 * 1024 * 1024),
      `heap back near its baseline: before ${r.heapBefore}, peak ${r.peakHeap}, after ${r.heapAfter}`,
    );
  });
});
