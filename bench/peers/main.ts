// The side-by-side peer benchmark of issue #9: every scenario against every peer that fits,
// each peer freshly started per run, the Go load generator on the other core.
//
//   npm run bench -- [--scenario a,b,…] [--peers ssehub,nchan,…] [--repeat N]
//                    [--mode pinned|shared] [--smoke] [--out file.jsonl] [--json] [--base dir]
//
// Prints one Markdown table (absolute figures and ratios to nchan) and writes one JSON line per
// run to --out (default .tmp/bench-peers-<time>.jsonl; --json also prints them on stdout).
// --smoke: small counts, seconds; exits 1 if any run lost, duplicated or got an unexpected event,
// or a subscriber disconnected — never on timing. See bench/README.md.
import { spawnSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { buildLoadgen, goMissing, type LoadResult, runLoadgen } from './loadgen.js';
import {
  ALL_PEERS,
  ensureNchan,
  type PeerName,
  peerMissing,
  ROOT,
  setBaseRoot,
  startPeer,
} from './peers.js';
import { treeStats } from './proc.js';
import { median, problems, type RunRecord, table } from './report.js';
import { selectScenarios } from './scenarios.js';

const { values } = parseArgs({
  options: {
    scenario: { type: 'string' },
    peers: { type: 'string' },
    repeat: { type: 'string', default: '1' },
    mode: { type: 'string', default: 'pinned' },
    smoke: { type: 'boolean', default: false },
    out: { type: 'string' },
    json: { type: 'boolean', default: false },
    base: { type: 'string' },
  },
});

const log = (s: string) => process.stderr.write(`bench: ${s}\n`);
const smoke = values.smoke === true;
const mode = values.mode === 'shared' ? 'shared' : 'pinned';
let pinned = mode === 'pinned';
if (pinned && spawnSync('taskset', ['-c', '0', 'true']).status !== 0) {
  log('taskset -c 0 fails here: running shared');
  pinned = false;
}
const repeat = Math.max(1, Number(values.repeat) || 1);
setBaseRoot(values.base === undefined ? undefined : resolve(values.base));
const wantedPeers = values.peers
  ? (values.peers.split(',').map((s) => s.trim()) as PeerName[])
  : [...ALL_PEERS];
const smokePeers: readonly PeerName[] = ['ssehub', 'raw', 'nchan', 'ssehub-w2', 'ssehub-redis2'];

const gone = goMissing();
if (gone) {
  log(gone);
  process.exit(2);
}
if (!existsSync(join(ROOT, 'dist/cli/main.js'))) {
  log('building ssehub (npm run build)');
  spawnSync('npm', ['run', 'build', '--silent'], { cwd: ROOT, stdio: 'inherit' });
}
if (!smoke && wantedPeers.includes('nchan')) ensureNchan(log);
buildLoadgen();

const out =
  values.out ??
  join(ROOT, '.tmp', `bench-peers-${new Date().toISOString().replace(/[:.]/g, '-')}.jsonl`);
mkdirSync(join(out, '..'), { recursive: true });

const rows: RunRecord[] = [];
const failures: string[] = [];
const MB = 1024 * 1024;

for (const scenario of selectScenarios(values.scenario)) {
  const spec = smoke ? scenario.smoke : scenario.load;
  const peers: PeerName[] = [];
  for (const peer of scenario.peers) {
    // --peers decides; without it, smoke runs ssehub (and its scaled setups), raw and nchan.
    const selected = values.peers
      ? wantedPeers.includes(peer)
      : !smoke || smokePeers.includes(peer);
    if (!selected) continue;
    const missing = peerMissing(peer);
    if (missing) {
      log(`skip ${scenario.id} ${peer}: ${missing}`);
      continue;
    }
    peers.push(peer);
  }
  // Repetitions go round the peers (A B C, A B C, …) rather than one peer at a time, so a
  // neighbour's load on this shared host falls on every peer alike and the ratios hold.
  const runsOf = new Map<PeerName, RunRecord[]>(peers.map((p) => [p, []]));
  for (let rep = 0; rep < repeat; rep++) {
    for (const peer of peers) {
      const runs = runsOf.get(peer) as RunRecord[];
      const running = await startPeer(peer, pinned);
      try {
        await new Promise((r) => setTimeout(r, smoke ? 50 : 300));
        const before = treeStats(running.pids);
        let ready = before;
        let readyAt = 0;
        const result: LoadResult = await runLoadgen(spec, running.target, pinned, () => {
          ready = treeStats(running.pids);
          readyAt = performance.now();
        });
        const wall = (performance.now() - readyAt) / 1000;
        const end = treeStats(running.pids);
        const cpu = end.cpuS - ready.cpuS;
        const delivered = Number(result.delivered ?? 0);
        const record: RunRecord = {
          ...result,
          scenario: scenario.id,
          peer,
          mode: pinned ? 'pinned' : 'shared',
          smoke: smoke ? 1 : 0,
          rep,
          rss_before_mb: before.rssBytes / MB,
          rss_ready_mb: ready.rssBytes / MB,
          rss_end_mb: end.rssBytes / MB,
          kb_per_sub: (ready.rssBytes - before.rssBytes) / 1024 / spec.subs,
          server_cpu_s: cpu,
          server_wall_s: wall,
          server_cpu_pct: (100 * cpu) / wall,
          server_procs: end.pids,
          cpu_us_per_delivery: delivered > 0 ? (cpu * 1e6) / delivered : undefined,
          loadgen_cpu_pct: (100 * Number(result.loadgen_cpu_s ?? 0)) / wall,
        };
        delete record.phase;
        runs.push(record);
        appendFileSync(out, `${JSON.stringify(record)}\n`);
        if (values.json) process.stdout.write(`${JSON.stringify(record)}\n`);
        const bad = problems(result, spec.subs);
        log(
          `${scenario.id} ${peer} #${rep}: ${result.delivered}/${result.expected} delivered, ` +
            `p99 ${Number(result.p99_ms).toFixed(1)} ms, srv CPU ${cpu.toFixed(2)} s` +
            (bad.length ? ` — ${bad.join(' ')}` : ''),
        );
        if (bad.length) failures.push(`${scenario.id} ${peer}: ${bad.join(' ')}`);
      } catch (err) {
        failures.push(`${scenario.id} ${peer}: ${(err as Error).message}`);
        log(`${scenario.id} ${peer} failed: ${(err as Error).message}`);
      } finally {
        await running.stop();
      }
    }
  }
  for (const runs of runsOf.values()) if (runs.length) rows.push(median(runs));
}

process.stdout.write(`\n${table(rows)}\n\n`);
log(`JSON lines: ${out}`);
if (smoke) {
  if (failures.length) {
    log(`smoke FAILED:\n  ${failures.join('\n  ')}`);
    process.exit(1);
  }
  log('smoke ok: no loss, no duplicate, no disconnect');
} else if (failures.length) {
  log(`problems:\n  ${failures.join('\n  ')}`);
}
