// The scenarios of issue #9, at full size and at smoke size (seconds, small counts).
import type { LoadSpec } from './loadgen.js';
import type { PeerName } from './peers.js';

export interface Scenario {
  /** a … e, and f:b / f:c for (b) and (c) through --workers 2 and two nodes on Redis. */
  id: string;
  title: string;
  load: LoadSpec;
  smoke: LoadSpec;
  peers: readonly PeerName[];
}

const SINGLE: readonly PeerName[] = ['ssehub', 'ssehub-base', 'raw', 'nchan', 'better-sse'];
const SCALED: readonly PeerName[] = ['ssehub-w2', 'ssehub-redis2'];

const b: LoadSpec = { subs: 10_000, topics: 1, updates: 50, rate: 10 };
const bSmoke: LoadSpec = { subs: 200, topics: 1, updates: 20, rate: 50, settleS: 3 };
const c: LoadSpec = { subs: 100, topics: 1, durationS: 5, pubConns: 4 };
const cSmoke: LoadSpec = { subs: 20, topics: 1, durationS: 0.5, pubConns: 4, settleS: 3 };

export const SCENARIOS: readonly Scenario[] = [
  {
    id: 'a',
    title: '10k idle subscribers: memory per subscriber',
    load: { subs: 10_000, topics: 1, holdS: 1 },
    smoke: { subs: 50, topics: 1, holdS: 0.2 },
    peers: SINGLE,
  },
  {
    id: 'b',
    title: '10k subscribers, one topic, 50 updates at 10/s',
    load: b,
    smoke: bSmoke,
    peers: SINGLE,
  },
  {
    id: 'c',
    title: '100 subscribers, one topic, publish flat out for 5 s (4 publishers)',
    load: c,
    smoke: cSmoke,
    peers: SINGLE,
  },
  {
    id: 'd',
    title: '10k subscribers on 10k topics, 20k updates at 2000/s spread over them',
    load: { subs: 10_000, topics: 10_000, updates: 20_000, rate: 2_000 },
    smoke: { subs: 200, topics: 200, updates: 400, rate: 1_000, settleS: 3 },
    peers: SINGLE,
  },
  {
    id: 'e',
    title: 'connect storm: 10k subscribers resume with Last-Event-ID, 100 events replayed each',
    load: { subs: 10_000, topics: 1, replay: 100, settleS: 10 },
    smoke: { subs: 200, topics: 1, replay: 100, settleS: 3 },
    peers: ['ssehub', 'ssehub-base', 'nchan'],
  },
  { id: 'f:b', title: '(b) scaled out', load: b, smoke: bSmoke, peers: SCALED },
  { id: 'f:c', title: '(c) scaled out', load: c, smoke: cSmoke, peers: SCALED },
];

/** `--scenario a,f` → the scenarios (f selects f:b and f:c). */
export function selectScenarios(list: string | undefined): Scenario[] {
  if (!list) return [...SCENARIOS];
  const wanted = list.split(',').map((s) => s.trim());
  return SCENARIOS.filter((s) => wanted.some((w) => s.id === w || s.id.startsWith(`${w}:`)));
}
