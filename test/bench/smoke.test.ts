// The regression guard of issue #9 (part 4): the peer benchmark's smoke mode runs every scenario
// with small counts and must see every event exactly once on every subscriber. It never fails on
// timing. The load generator is Go (bench/peers/loadgen): without `go` this file skips, unless
// CI is set, where a missing `go` is a failure (.ci/run installs golang-go).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { buildLoadgen, goMissing, runLoadgen } from '../../bench/peers/loadgen.js';
import { problems } from '../../bench/peers/report.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const missing = goMissing();
const skip = missing !== undefined && !process.env.CI ? `${missing}; CI unset, skipping` : false;

/** A broadcaster that misbehaves on purpose: drops, repeats or cuts off. */
async function faulty(fault: 'drop' | 'repeat' | 'cut') {
  const subscribers = new Set<ServerResponse>();
  let n = 0;
  const server = createServer((req, res) => {
    if (req.method === 'GET') {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(':\n\n');
      subscribers.add(res);
      res.on('close', () => subscribers.delete(res));
      return;
    }
    let body = '';
    req.on('data', (c: Buffer) => {
      body += c.toString();
    });
    req.on('end', () => {
      const data = new URLSearchParams(body).get('data') ?? '';
      const frame = `data: ${data}\n\n`;
      n++;
      for (const r of subscribers) {
        if (fault === 'drop' && n === 3) continue;
        r.write(fault === 'repeat' && n === 3 ? frame + frame : frame);
        if (fault === 'cut' && n === 3) r.destroy();
      }
      res.end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    target: {
      subAddrs: [`127.0.0.1:${port}`],
      subPath: '/?topic=',
      pubUrl: `http://127.0.0.1:${port}/`,
      pubStyle: 'form' as const,
      topicFmt: 't%d',
    },
    close: () => {
      for (const r of subscribers) r.destroy();
      server.close();
    },
  };
}

describe('bench smoke guard', { skip }, () => {
  it('the load generator counts losses, duplicates and disconnects', async () => {
    assert.equal(
      missing,
      undefined,
      'CI is set: `go` must be installed (apt-get install golang-go)',
    );
    buildLoadgen();
    const expectations = { drop: 'lost=', repeat: 'duplicates=', cut: 'disconnects=' } as const;
    for (const fault of ['drop', 'repeat', 'cut'] as const) {
      const peer = await faulty(fault);
      try {
        const spec = { subs: 5, topics: 1, updates: 6, rate: 200, settleS: 0.3 };
        const result = await runLoadgen(spec, peer.target, false, () => {});
        const found = problems(result, spec.subs).join(' ');
        assert.match(found, new RegExp(expectations[fault]), `${fault}: ${found}`);
      } finally {
        peer.close();
      }
    }
  });

  it('npm run bench -- --smoke: every scenario, no loss, no duplicate, no disconnect', async () => {
    assert.equal(
      missing,
      undefined,
      'CI is set: `go` must be installed (apt-get install golang-go)',
    );
    const dir = mkdtempSync(join(tmpdir(), 'ssehub-bench-smoke-'));
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        'bench/peers/main.ts',
        '--smoke',
        '--mode',
        'shared',
        '--out',
        '.tmp/bench-smoke.jsonl',
      ],
      { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let output = '';
    child.stdout.on('data', (c: Buffer) => {
      output += c.toString();
    });
    child.stderr.on('data', (c: Buffer) => {
      output += c.toString();
    });
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    rmSync(dir, { recursive: true, force: true });
    assert.equal(code, 0, output);
    assert.match(output, /smoke ok/);
  });
});
