// Builds the Go load generator (bench/peers/loadgen, standard library only) into the ignored
// bench/peers/.build/ and runs it for one scenario against one peer.
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { LoadTarget } from './peers.js';
import { ROOT } from './peers.js';

export const LOADGEN_DIR = join(ROOT, 'bench/peers/loadgen');
export const LOADGEN_BIN = join(ROOT, 'bench/peers/.build/loadgen');

/** Why the load generator cannot be built here, or undefined. */
export function goMissing(): string | undefined {
  const probe = spawnSync('go', ['version'], { encoding: 'utf8' });
  return probe.error === undefined ? undefined : 'no `go` on PATH (apt-get install golang-go)';
}

/** `go build` (a no-op when up to date, thanks to Go's build cache). */
export function buildLoadgen(): void {
  mkdirSync(join(ROOT, 'bench/peers/.build'), { recursive: true });
  const r = spawnSync('go', ['build', '-o', LOADGEN_BIN, '.'], {
    cwd: LOADGEN_DIR,
    encoding: 'utf8',
    env: { ...process.env, CGO_ENABLED: '0', ...goDirsWithoutHome() },
  });
  if (r.status !== 0) throw new Error(`go build failed\n${r.stderr}${r.error ?? ''}`);
}

/** Go keeps its caches under $HOME; a CI job may run without one, so give it ours then. */
function goDirsWithoutHome(): Record<string, string> {
  if (process.env.HOME || process.env.GOCACHE) return {};
  const build = join(ROOT, 'bench/peers/.build');
  return { GOCACHE: join(build, 'gocache'), GOPATH: join(build, 'gopath') };
}

export interface LoadSpec {
  subs: number;
  topics: number;
  updates?: number;
  rate?: number;
  durationS?: number;
  replay?: number;
  holdS?: number;
  pubConns?: number;
  settleS?: number;
}

export type LoadResult = Record<string, number | string | undefined>;

function args(spec: LoadSpec, t: LoadTarget): string[] {
  const a = [
    `-sub-addrs=${t.subAddrs.join(',')}`,
    `-sub-path=${t.subPath}`,
    `-pub-url=${t.pubUrl}`,
    `-pub-style=${t.pubStyle}`,
    `-topic-fmt=${t.topicFmt}`,
    `-subs=${spec.subs}`,
    `-topics=${spec.topics}`,
  ];
  if (t.token) a.push(`-token=${t.token}`);
  if (spec.updates) a.push(`-updates=${spec.updates}`);
  if (spec.rate) a.push(`-rate=${spec.rate}`);
  if (spec.durationS) a.push(`-duration=${spec.durationS}s`);
  if (spec.replay) a.push(`-replay=${spec.replay}`);
  if (spec.holdS !== undefined) a.push(`-hold=${spec.holdS}s`);
  if (spec.pubConns) a.push(`-pub-conns=${spec.pubConns}`);
  if (spec.settleS !== undefined) a.push(`-settle=${spec.settleS}s`);
  return a;
}

/**
 * Runs the load generator; `onReady` runs once the setup is done (subscribers connected, or the
 * replay history prefilled) and before the main phase starts. Bounded by `timeoutMs`.
 */
export function runLoadgen(
  spec: LoadSpec,
  target: LoadTarget,
  pinned: boolean,
  onReady: (ready: LoadResult) => void,
  timeoutMs = 180_000,
): Promise<LoadResult> {
  const a = args(spec, target);
  const [file, argv] = pinned ? ['taskset', ['-c', '1', LOADGEN_BIN, ...a]] : [LOADGEN_BIN, a];
  const child = spawn(file, argv, { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => {
    stderr = (stderr + c.toString()).slice(-4000);
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`loadgen timed out after ${timeoutMs} ms\n${stderr}`));
    }, timeoutMs);
    let result: LoadResult | undefined;
    createInterface({ input: child.stdout }).on('line', (line) => {
      let msg: LoadResult;
      try {
        msg = JSON.parse(line) as LoadResult;
      } catch {
        return;
      }
      if (msg.phase === 'ready') {
        onReady(msg);
        child.stdin.write('go\n');
      } else if (msg.phase === 'done' || msg.phase === 'error') {
        result = msg;
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      if (result?.phase === 'done') resolve(result);
      else reject(new Error(`loadgen exited ${code}: ${result?.error ?? ''}\n${stderr}`));
    });
  });
}
