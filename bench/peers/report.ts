// One run's record (load generator result + server figures), medians over repetitions, the
// smoke verdict and the Markdown table with ratios to nchan.
import type { LoadResult } from './loadgen.js';

export type RunRecord = Record<string, number | string | undefined> & {
  scenario: string;
  peer: string;
};

const num = (v: unknown): number | undefined => (typeof v === 'number' ? v : undefined);

/** Field-wise median of numeric fields; strings from the first run. */
export function median(runs: readonly RunRecord[]): RunRecord {
  const out: RunRecord = { ...runs[0]! };
  for (const key of Object.keys(out)) {
    const values = runs.map((r) => num(r[key])).filter((v): v is number => v !== undefined);
    if (values.length === 0) continue;
    values.sort((x, y) => x - y);
    const mid = values.length >> 1;
    out[key] = values.length % 2 ? values[mid]! : (values[mid - 1]! + values[mid]!) / 2;
  }
  out.repeats = runs.length;
  return out;
}

/** What a smoke run fails on: losses, duplicates, unexpected events, disconnects, errors. */
export function problems(r: LoadResult | RunRecord, subs: number): string[] {
  const p: string[] = [];
  for (const k of ['lost', 'duplicates', 'unexpected', 'disconnects', 'connect_errors']) {
    const v = num(r[k]) ?? 0;
    if (v > 0) p.push(`${k}=${v}`);
  }
  if ((num(r.publish_errors) ?? 0) > 0) p.push(`publish_errors=${r.publish_errors}`);
  if ((num(r.connected) ?? 0) < subs) p.push(`connected=${r.connected}/${subs}`);
  if ((num(r.expected) ?? 0) !== (num(r.delivered) ?? 0)) {
    p.push(`delivered=${r.delivered}/${r.expected}`);
  }
  if (r.disconnect_error) p.push(`(${r.disconnect_error})`);
  if (r.connect_error) p.push(`(${r.connect_error})`);
  if (r.publish_error) p.push(`(${r.publish_error})`);
  return p;
}

const f = (v: number | undefined, digits = 0): string =>
  v === undefined || Number.isNaN(v) ? '–' : v.toFixed(digits);
const k = (v: number | undefined): string =>
  v === undefined ? '–' : v >= 10_000 ? `${(v / 1000).toFixed(0)}k` : v.toFixed(0);
const ratio = (v: number | undefined, ref: number | undefined): string =>
  v === undefined || ref === undefined || ref === 0 ? '–' : `×${(v / ref).toFixed(2)}`;

/** The Markdown table; ratios are to nchan's figures of the same scenario in the same run. */
export function table(rows: readonly RunRecord[]): string {
  const head = [
    'scenario',
    'peer',
    'deliveries/s',
    'p50 ms',
    'p99 ms',
    'ack p99 ms',
    'srv CPU µs/dlv',
    'srv CPU %',
    'srv RSS MB',
    'KB/sub',
    'all connected / all replayed ms',
    'loadgen CPU %',
    'lost/dup/disc',
    '×nchan dlv/s',
    '×nchan p99',
    '×nchan CPU/dlv',
    '×nchan mem',
  ];
  const lines = [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`];
  for (const r of rows) {
    const refScenario = r.scenario.startsWith('f:') ? r.scenario.slice(2) : r.scenario;
    const ref = rows.find((x) => x.scenario === refScenario && x.peer === 'nchan');
    const mem = r.scenario === 'a' ? 'kb_per_sub' : 'rss_ready_mb';
    const time = r.scenario === 'e' ? 'complete_ms' : undefined;
    lines.push(
      `| ${[
        r.scenario,
        r.peer,
        k(num(r.deliveries_per_s)),
        f(num(r.p50_ms), 1),
        f(num(r.p99_ms), 1),
        f(num(r.ack_p99_ms), 1),
        f(num(r.cpu_us_per_delivery), 2),
        f(num(r.server_cpu_pct)),
        f(num(r.rss_ready_mb)),
        r.scenario === 'a' ? f(num(r.kb_per_sub), 1) : '–',
        r.scenario === 'e' ? `${f(num(r.connect_ms))} / ${f(num(r.complete_ms))}` : '–',
        f(num(r.loadgen_cpu_pct)),
        `${r.lost ?? '–'}/${r.duplicates ?? '–'}/${r.disconnects ?? '–'}`,
        time
          ? `×${f(ref && num(ref[time]) ? num(r[time])! / num(ref[time])! : undefined, 2)} time`
          : ratio(num(r.deliveries_per_s), num(ref?.deliveries_per_s)),
        ratio(num(r.p99_ms), num(ref?.p99_ms)),
        ratio(num(r.cpu_us_per_delivery), num(ref?.cpu_us_per_delivery)),
        ratio(num(r[mem]), num(ref?.[mem])),
      ].join(' | ')} |`,
    );
  }
  return lines.join('\n');
}
