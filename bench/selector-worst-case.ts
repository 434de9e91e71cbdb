// The worst matching work the selector budgets allow, against typical selectors. Not part of
// `npm test`.
//
//   node --import tsx bench/selector-worst-case.ts [topicLength=2048]
//
// For each hostile shape, the largest selector that still fits `maxSelectorCost` is compiled under
// the default budgets and matched against a topic of `maxTopicLength` characters chosen to keep
// every automaton state active (letters, which every variable and wildcard accepts). Then a
// subscriber at `maxSubscriberSelectorCost` (distinct selectors of the worst shape, so the hub's
// once-per-distinct-selector sharing does not help) is matched once per "publish". Figures: µs per
// match, ns per cost unit per topic character (the constant behind the budgets), and the ratio to
// a typical selector and a typical subscriber (100 URL patterns) on the same topic length.
import { isSseHubError } from '../src/errors.js';
import {
  DEFAULT_MAX_SELECTOR_COST,
  DEFAULT_MAX_SUBSCRIBER_SELECTOR_COST,
  DEFAULT_MAX_TOPIC_LENGTH,
} from '../src/hub/options.js';
import {
  type CompiledSelector,
  compileSelector,
  type MatcherKind,
} from '../src/hub/selectors/topic-selector.js';

const LENGTH = Number(process.argv[2] ?? DEFAULT_MAX_TOPIC_LENGTH);
const S = DEFAULT_MAX_SELECTOR_COST;
const P = DEFAULT_MAX_SUBSCRIBER_SELECTOR_COST;
const ROUNDS = 7;

interface Shape {
  name: string;
  kind: MatcherKind;
  /** The selector for size n, made distinct by `tag`. */
  make(n: number, tag: number): string;
  topic: string;
}

const letters = (n: number) => 'a'.repeat(Math.max(0, n));
const URL_TOPIC = `https://p.x/${letters(LENGTH - 12)}`;
const SHAPES: Shape[] = [
  {
    // `.{0,n}` would die once its capacity is used up; unbounded loops stay active to the end.
    name: 'url: (?:.*){n}',
    kind: 'urlpattern',
    make: (n, tag) => `https://p.x/:x((?:.*){${n}})${tag === 0 ? '' : `:y(${tag})?`}`,
    topic: URL_TOPIC,
  },
  {
    name: 'url: ((?:a|a)*)×n',
    kind: 'urlpattern',
    make: (n, tag) => `https://p.x/:x(${'(?:a|a)*'.repeat(n)})${tag === 0 ? '' : `:y(${tag})?`}`,
    topic: URL_TOPIC,
  },
  {
    name: 'template: {a0}…{an}',
    kind: 'template',
    make: (n, tag) => Array.from({ length: n }, (_, i) => `{v${tag}_${i}}`).join(''),
    topic: letters(LENGTH),
  },
  {
    name: 'template: {+a0}…{+an}',
    kind: 'template',
    make: (n, tag) => Array.from({ length: n }, (_, i) => `{+v${tag}_${i}}`).join(''),
    topic: letters(LENGTH),
  },
  {
    name: 'template: {a0,…,an}',
    kind: 'template',
    make: (n, tag) => `{${Array.from({ length: n }, (_, i) => `v${tag}_${i}`).join(',')}}`,
    topic: letters(LENGTH),
  },
];

function tryCompile(source: string, kind: MatcherKind, maxCost = S): CompiledSelector | undefined {
  try {
    return compileSelector(source, kind, { maxCost });
  } catch (err) {
    if (isSseHubError(err, 'SELECTOR_TOO_COMPLEX')) return undefined;
    throw err;
  }
}

/** The largest n whose selector fits `budget` (cost grows with n); undefined when none does. */
function largest(shape: Shape, budget: number, tag: number): CompiledSelector | undefined {
  if (tryCompile(shape.make(1, tag), shape.kind, budget) === undefined) return undefined;
  let lo = 1;
  let hi = 1;
  while (tryCompile(shape.make(hi, tag), shape.kind, budget) !== undefined) hi *= 2;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (tryCompile(shape.make(mid, tag), shape.kind, budget) !== undefined) lo = mid;
    else hi = mid;
  }
  return tryCompile(shape.make(lo, tag), shape.kind, budget);
}

/** Best-of-ROUNDS time of one call of `run`, in µs. */
function time(run: () => void): number {
  run();
  let best = Number.POSITIVE_INFINITY;
  for (let r = 0; r < ROUNDS; r++) {
    const start = process.hrtime.bigint();
    run();
    best = Math.min(best, Number(process.hrtime.bigint() - start) / 1000);
  }
  return best;
}

function matchAll(matchers: readonly CompiledSelector[], topic: string): () => void {
  return () => {
    for (const m of matchers) m.matches(topic);
  };
}

const typicalTopic = `https://example.com/books/${letters(LENGTH - 26)}`;
const typicalUrlTopic = `https://example.com/users/${letters(LENGTH - 33 - 900)}/posts/${letters(900)}`;
const typicalTemplate = compileSelector('https://example.com/books/{id}');
const typicalPattern = compileSelector('https://example.com/users/:id/posts/:post', 'urlpattern');
const typicalMatchUs = Math.max(
  time(() => typicalTemplate.matches(typicalTopic)),
  time(() => typicalPattern.matches(typicalUrlTopic)),
);
// A typical subscriber: 100 URL patterns, all sharing the topic's host and path prefix so that
// each runs its automaton (the worst case for them, too).
const typicalSubscriber = Array.from({ length: 100 }, (_, i) =>
  compileSelector(`https://example.com/users/:id/posts/:post${i}`, 'urlpattern'),
);
const typicalSubscriberCost = typicalSubscriber.reduce((sum, m) => sum + m.cost, 0);
const typicalSubscriberUs = time(matchAll(typicalSubscriber, typicalUrlTopic));

console.log(
  `topic length ${LENGTH}; maxSelectorCost ${S}, maxSubscriberSelectorCost ${P}; ` +
    `best of ${ROUNDS} rounds`,
);
console.log(
  `typical selector: template cost ${typicalTemplate.cost}, URL pattern cost ${typicalPattern.cost}, ` +
    `${typicalMatchUs.toFixed(1)} µs per match (the slower)`,
);
console.log(
  `typical subscriber: 100 URL patterns, cost ${typicalSubscriberCost}, ` +
    `${typicalSubscriberUs.toFixed(0)} µs per publish`,
);
console.log('');
console.log(
  [
    'shape'.padEnd(24),
    'cost'.padStart(6),
    'µs/match'.padStart(10),
    'ns/unit/char'.padStart(13),
    '×typical'.padStart(9),
    'subscriber'.padStart(11),
    'ms/publish'.padStart(11),
    '×typical'.padStart(9),
  ].join(' '),
);
let worstNs = 0;
let worstSubscriberMs = 0;
for (const shape of SHAPES) {
  const one = largest(shape, S, 0);
  if (one === undefined) throw new Error(`${shape.name}: nothing fits ${S}`);
  const matchUs = time(() => one.matches(shape.topic));
  const nsPerUnit = (matchUs * 1000) / (one.cost * shape.topic.length);
  // Distinct selectors of this shape until the subscriber budget is spent.
  const subscriber: CompiledSelector[] = [];
  let spent = 0;
  for (let tag = 1; ; tag++) {
    const m = largest(shape, Math.min(S, P - spent), tag);
    if (m === undefined) break;
    subscriber.push(m);
    spent += m.cost;
  }
  const subscriberMs = time(matchAll(subscriber, shape.topic)) / 1000;
  worstNs = Math.max(worstNs, nsPerUnit);
  worstSubscriberMs = Math.max(worstSubscriberMs, subscriberMs);
  console.log(
    [
      shape.name.padEnd(24),
      String(one.cost).padStart(6),
      matchUs.toFixed(0).padStart(10),
      nsPerUnit.toFixed(2).padStart(13),
      (matchUs / typicalMatchUs).toFixed(0).padStart(9),
      `${subscriber.length}×, ${spent}`.padStart(11),
      subscriberMs.toFixed(1).padStart(11),
      ((subscriberMs * 1000) / typicalSubscriberUs).toFixed(1).padStart(9),
    ].join(' '),
  );
}
console.log('');
console.log(
  `worst: ${worstNs.toFixed(2)} ns per cost unit per character; ` +
    `one selector at the budget ≤ ${((S * LENGTH * worstNs) / 1e6).toFixed(1)} ms per match, ` +
    `one subscriber at the budget ≤ ${((P * LENGTH * worstNs) / 1e6).toFixed(1)} ms per publish ` +
    `(measured worst subscriber ${worstSubscriberMs.toFixed(1)} ms)`,
);
