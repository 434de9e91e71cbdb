// Selector cost budgets: the cost measure (automaton states + ε-edges), refusal during
// construction, the per-selector and per-subscriber budgets over real HTTP, token selectors, and
// that an unauthenticated subscribe request compiles nothing.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { isSseHubError } from '../../src/errors.js';
import {
  DEFAULT_MAX_SELECTOR_COST,
  DEFAULT_MAX_SUBSCRIBER_SELECTOR_COST,
} from '../../src/hub/options.js';
import {
  ANY,
  char,
  charSet,
  EMPTY,
  lit,
  Nfa,
  type Node,
  PatternTooComplexError,
  rep,
} from '../../src/hub/selectors/nfa.js';
import { parseRegexSubset } from '../../src/hub/selectors/regex-subset.js';
import {
  compileSelector,
  type MatcherKind,
  SELECTOR_CACHE_MAX_COST,
  selectorCacheStats,
} from '../../src/hub/selectors/topic-selector.js';
import {
  getText,
  mintTestToken,
  postForm,
  type RunningHub,
  startHub,
} from '../helpers/hub-server.js';
import { openSse, type SseConnection } from '../helpers/sse-client.js';

const costOf = (source: string, kind: MatcherKind = 'template') =>
  compileSelector(source, kind, { maxCost: 1_000_000 }).cost;

/** `{a0}{a1}…`: n variables in a row. */
const vars = (n: number, name = 'a') =>
  Array.from({ length: n }, (_, i) => `{${name}${i}}`).join('');
/** `{a0,a1,…}`: one expression of n variables (an RFC 6570 list: any in-order subset). */
const list = (n: number) => `{${Array.from({ length: n }, (_, i) => `a${i}`).join(',')}}`;
/** The URL pattern of issue #7: 8 × 1000 copies of `.` in one automaton. */
const hostilePattern = (n: number) => `https://p.x/:x((?:.{0,1000}){8})${n}`;

function refusedAsTooComplex(fn: () => unknown, limit: RegExp): void {
  assert.throws(fn, (err) => {
    assert.ok(isSseHubError(err, 'SELECTOR_TOO_COMPLEX'), String(err));
    assert.match(err.message, limit);
    return true;
  });
}

describe('the cost measure', () => {
  it('is states plus ε-edges', () => {
    for (const node of [
      lit('abc'),
      rep(char(ANY), 0, Number.POSITIVE_INFINITY),
      rep(lit('ab'), 2, 5),
      parseRegexSubset('(?:a|bc|d*)+x?'),
    ]) {
      const nfa = new Nfa(node);
      assert.equal(nfa.cost, nfa.size + nfa.edges);
    }
    // A literal costs one state a character: no ε-edges at all.
    const literal = new Nfa(lit('abcdef'));
    assert.equal(literal.edges, 0);
    assert.equal(literal.cost, 7);
  });

  it('grows linearly with the variables of a template, in a row or in one list', () => {
    for (const shape of [vars, list]) {
      const [c10, c20, c40] = [10, 20, 40].map((n) => costOf(shape(n)));
      assert.ok(c10! < c20! && c20! < c40!, 'each variable is counted');
      // Constant cost per variable. An RFC 6570 list links each item to every later one when
      // built naively (O(n²) ε-edges, what made `{a0}…{a299}`-like selectors slow to match); the
      // chain of skip states keeps it linear, and the measure would show it if not.
      assert.equal(c40! - c20!, 2 * (c20! - c10!), shape.name);
    }
  });

  it('counts every copy of a counted repetition', () => {
    const [c10, c20] = [10, 20].map((n) => costOf(`https://p.x/:x(a{0,${n}})`, 'urlpattern'));
    assert.equal(c20! - c10!, 2 * 10, 'a copy of a character and its exit edge');
    const [p3, p6] = [3, 6].map((n) => costOf(`https://example.com/{a:${n}}`));
    assert.ok(p6! - p3! >= 3 * 10, 'a prefix-counted value unit costs tens of units');
  });

  it('charges a character class with many non-ASCII ranges for its search', () => {
    const many = charSet(
      Array.from({ length: 40 }, (_, i) => [0x400 + 4 * i, 0x401 + 4 * i] as const),
    );
    const big = new Nfa(char(many));
    const small = new Nfa(char(ANY));
    assert.equal(small.cost, small.size + small.edges);
    assert.ok(big.cost > big.size + big.edges);
  });

  it('adds the components of a URL pattern; literal components cost 1', () => {
    const literal = costOf('https://example.com/books', 'urlpattern');
    const longer = costOf(`https://example.com/${'b'.repeat(1500)}`, 'urlpattern');
    assert.equal(longer, literal, 'a literal component is compared as a string');
    assert.ok(costOf('https://:sub.example.com/books', 'urlpattern') > literal);
  });

  it('stays small for typical selectors: 100 of them fit one subscriber with room', () => {
    const templates = Array.from({ length: 100 }, (_, i) =>
      costOf(`https://example.com/books${i}/{id}`),
    );
    const patterns = Array.from({ length: 100 }, (_, i) =>
      costOf(`https://example.com/users${i}/:id/posts/:post`, 'urlpattern'),
    );
    const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
    assert.ok(sum(templates) <= 0.5 * DEFAULT_MAX_SUBSCRIBER_SELECTOR_COST, `${sum(templates)}`);
    assert.ok(sum(patterns) <= 0.7 * DEFAULT_MAX_SUBSCRIBER_SELECTOR_COST, `${sum(patterns)}`);
    assert.ok(Math.max(...templates, ...patterns) <= DEFAULT_MAX_SELECTOR_COST / 20);
  });
});

describe('refusal during construction', () => {
  it('throws as soon as the budget is passed, not after building the rest', () => {
    // An item that counts how often the builder reads it: `rep` builds one copy per read.
    let reads = 0;
    const counted: Node = {
      t: 'seq',
      get items() {
        reads++;
        return [char(ANY)];
      },
    };
    assert.throws(
      () => new Nfa(rep(counted, 0, 90), 100),
      (err) => err instanceof PatternTooComplexError && err.budget === 100,
    );
    // Two units a copy: the budget of 100 is spent after about 50 of the 90 copies.
    assert.ok(reads > 10 && reads < 60, `built ${reads} of 90 copies`);
  });

  it('refuses a count above the budget before building any copy', () => {
    let reads = 0;
    const counted: Node = {
      t: 'seq',
      get items() {
        reads++;
        return [char(ANY)];
      },
    };
    assert.throws(() => new Nfa(rep(counted, 0, 5000), 1000), PatternTooComplexError);
    assert.ok(reads <= 1, 'read once to see whether it is empty, never built');
  });

  it('builds nothing for repetitions of an empty group, however nested', () => {
    // A billion iterations if each copy were built: the test would not finish.
    const nested = rep(rep(rep(EMPTY, 1000, 1000), 1000, 1000), 1000, 1000);
    const nfa = new Nfa(nested);
    assert.equal(nfa.cost, 1);
    assert.equal(nfa.matches(''), true);
    assert.equal(nfa.matches('a'), false);
    const pattern = compileSelector('https://p.x/:x((?:(?:(?:){1000}){1000}){1000})', 'urlpattern');
    assert.equal(pattern.matches('https://p.x/'), true);
    assert.equal(pattern.matches('https://p.x/a'), false);
  });

  it('refuses the hostile selectors of issue #7 with the limit and the figures', () => {
    const limit = new RegExp(
      `costs more than ${DEFAULT_MAX_SELECTOR_COST} .*the limit per selector \\(maxSelectorCost\\) is ${DEFAULT_MAX_SELECTOR_COST}`,
    );
    refusedAsTooComplex(() => compileSelector(hostilePattern(1), 'urlpattern'), limit);
    refusedAsTooComplex(() => compileSelector(vars(300)), limit);
    refusedAsTooComplex(() => compileSelector(list(300)), limit);
    refusedAsTooComplex(() => compileSelector('https://example.com/{a:9999}'), limit);
  });

  it('applies the budget to cached selectors too', () => {
    const source = `https://example.com/cached/${vars(8)}`;
    const cost = compileSelector(source).cost;
    assert.equal(compileSelector(source, 'template', { maxCost: cost }).cost, cost);
    refusedAsTooComplex(
      () => compileSelector(source, 'template', { maxCost: cost - 1 }),
      new RegExp(`costs ${cost} .*is ${cost - 1}$`),
    );
  });
});

describe('the selector cache weighs entries by cost', () => {
  it('evicts by total cost before the entry count is reached', () => {
    const first = compileSelector(`https://example.com/weigh/${vars(80, 'w')}`);
    assert.ok(first.cost >= 800);
    // Enough distinct selectors of the same cost to pass the weight bound, far fewer than the
    // cache's entry bound.
    const needed = Math.ceil(SELECTOR_CACHE_MAX_COST / first.cost) + 1;
    for (let i = 0; i < needed; i++)
      compileSelector(`https://example.com/weigh${i}/${vars(80, 'w')}`);
    const stats = selectorCacheStats();
    assert.ok(stats.weight <= SELECTOR_CACHE_MAX_COST, `weight ${stats.weight}`);
    assert.notEqual(compileSelector(`https://example.com/weigh/${vars(80, 'w')}`), first);
  });
});

describe('character classes as code point sets', () => {
  it('agree with RegExp (property)', () => {
    const classes = [
      '[a-z]',
      '[^/]',
      '\\d',
      '\\D',
      '\\w',
      '\\S',
      '\\s',
      '[^\\d\\s]',
      '[é-ü0-3_]',
      '.',
      '[^a-cx-z]',
    ];
    const text = fc.string({
      unit: fc.constantFrom(
        'a',
        'b',
        'x',
        '5',
        '/',
        ' ',
        '\u00e9',
        '\u00fc',
        '\u2028',
        '\t',
        '_',
        '\u{1F600}',
      ),
      maxLength: 8,
    });
    fc.assert(
      fc.property(fc.constantFrom(...classes), text, (cls, input) => {
        const source = `${cls}*`;
        const expected = new RegExp(`^(?:${source})$`, 'u').test(input);
        assert.equal(
          new Nfa(parseRegexSubset(source)).matches(input),
          expected,
          `${source} vs ${JSON.stringify(input)}`,
        );
      }),
      { numRuns: 1000 },
    );
  });
});

describe('budgets over HTTP', () => {
  let h: RunningHub;
  let open: SseConnection[] = [];
  let subscriberToken: string;
  before(async () => {
    h = await startHub();
    subscriberToken = await mintTestToken({ subscribe: ['*'] });
  });
  after(async () => {
    for (const conn of open) conn.close();
    open = [];
    await h.close();
  });

  const url = (params: [string, string][]) => {
    const u = new URL(h.url);
    for (const [name, value] of params) u.searchParams.append(name, value);
    return u.toString();
  };
  const withToken = (token = subscriberToken) => ({ authorization: `Bearer ${token}` });

  it('refuses the 100 hostile URL patterns of issue #7 with 400 and the limit', async () => {
    const params = Array.from(
      { length: 100 },
      (_, n) => ['match_urlpattern', hostilePattern(n)] as [string, string],
    );
    const res = await getText(url(params), withToken());
    assert.equal(res.status, 400);
    assert.match(res.body, /too much to match/);
    assert.match(res.body, /the limit per selector \(maxSelectorCost\) is 1024/);
  });

  it('refuses the 300-variable template with 400 and the limit', async () => {
    const res = await getText(url([['topic', vars(300)]]), withToken());
    assert.equal(res.status, 400);
    assert.match(res.body, /costs more than 1024 .*maxSelectorCost\) is 1024/);
  });

  // Selectors whose cost is known exactly: a literal after a variable costs one unit a character,
  // and the host is a literal component (cost 1 whatever its text), which makes them distinct.
  const sized = (host: string, cost: number) => {
    const base = costOf(`https://${host}.example/:x/`, 'urlpattern');
    return `https://${host}.example/:x/${'b'.repeat(cost - base)}`;
  };

  it('accepts a subscriber right at its budget, and refuses one unit more', async () => {
    const per = DEFAULT_MAX_SUBSCRIBER_SELECTOR_COST / 4;
    assert.ok(per <= DEFAULT_MAX_SELECTOR_COST);
    const small = 'https://h9.example/:x/';
    const rest = per - costOf(small, 'urlpattern');
    const atBudget = [
      sized('h0', per),
      sized('h1', per),
      sized('h2', per),
      sized('h3', rest),
      small,
    ];
    const costs = atBudget.map((s) => costOf(s, 'urlpattern'));
    assert.equal(
      costs.reduce((a, b) => a + b, 0),
      DEFAULT_MAX_SUBSCRIBER_SELECTOR_COST,
    );
    const params = atBudget.map((s) => ['match_urlpattern', s] as [string, string]);
    // Exact selectors are looked up, not scanned: they cost nothing against the budget.
    params.push(['topic', 'https://example.com/exact'], ['match', 'https://example.com/exact2']);
    const conn = await openSse(url(params), { headers: withToken() });
    open.push(conn);
    assert.equal(conn.status, 200);
    const topic = `https://h2.example/x/${'b'.repeat(per - costOf('https://h2.example/:x/', 'urlpattern'))}`;
    const publisher = await mintTestToken({ publish: ['*'] });
    const published = await postForm(h.url, { topic, data: 'at budget' }, withToken(publisher));
    assert.equal(published.status, 200);
    const [event] = await conn.waitForEvents(1);
    assert.equal(event!.data, 'at budget');

    const over = [...atBudget.slice(0, 3), sized('h3', rest + 1), small];
    const res = await getText(
      url(over.map((s) => ['match_urlpattern', s] as [string, string])),
      withToken(),
    );
    assert.equal(res.status, 400);
    assert.match(
      res.body,
      new RegExp(
        `the first 5 selectors of this subscription cost ${DEFAULT_MAX_SUBSCRIBER_SELECTOR_COST + 1} together .*maxSubscriberSelectorCost\\) is ${DEFAULT_MAX_SUBSCRIBER_SELECTOR_COST}`,
      ),
    );
  });

  it('refuses a token whose selector is over budget as an invalid token', async () => {
    const token = await mintTestToken({ subscribe: ['https://example.com/{id}', vars(300)] });
    const res = await getText(url([['topic', 'https://example.com/1']]), withToken(token));
    assert.equal(res.status, 401);
    assert.match(res.headers.get('www-authenticate') ?? '', /invalid_token/);
    const badPublisher = await mintTestToken({ publish: [vars(300)] });
    const refused = await postForm(
      h.url,
      { topic: 'https://example.com/1' },
      withToken(badPublisher),
    );
    assert.equal(refused.status, 401);
  });

  it("refuses a token whose selectors for one action cost more than a subscriber's together", async () => {
    // Each within the per-selector budget; five of them pass the set budget (4096), four do not.
    const costly = (i: number) => `https://t${i}.example/${vars(90)}`;
    assert.ok(costOf(costly(0)) <= DEFAULT_MAX_SELECTOR_COST);
    assert.ok(costOf(costly(0)) * 5 > DEFAULT_MAX_SUBSCRIBER_SELECTOR_COST);
    assert.ok(costOf(costly(0)) * 4 <= DEFAULT_MAX_SUBSCRIBER_SELECTOR_COST);
    const topic = [['topic', 'https://example.com/1']] as [string, string][];
    const five = await mintTestToken({ subscribe: [0, 1, 2, 3, 4].map(costly) });
    const refused = await getText(url(topic), withToken(five));
    assert.equal(refused.status, 401);
    assert.match(refused.body, /invalid/i);
    const four = await mintTestToken({ subscribe: [0, 1, 2, 3].map(costly) });
    const conn = await openSse(url(topic), { headers: withToken(four) });
    assert.equal(conn.status, 200);
    conn.close();
  });

  it('answers 401 to a request without a token before compiling any selector', async () => {
    const before = selectorCacheStats().compilations;
    // Valid patterns never seen before (they would be compiled), then ones over the budget
    // (they would be refused with 400 if compiled).
    const fresh = Array.from(
      { length: 50 },
      (_, n) =>
        ['match_urlpattern', `https://fresh${n}.example/:id/${Date.now()}`] as [string, string],
    );
    const hostile = Array.from(
      { length: 50 },
      (_, n) => ['match_urlpattern', hostilePattern(n)] as [string, string],
    );
    for (const params of [
      [...fresh, ...hostile],
      [...hostile],
      [['topic', vars(300)]] as [string, string][],
    ]) {
      const res = await getText(url(params));
      assert.equal(res.status, 401, res.body);
      const forged = await getText(
        url(params),
        withToken(await mintTestToken({ subscribe: ['*'], secret: 'x'.repeat(40) })),
      );
      assert.equal(forged.status, 401, 'a token that does not verify compiles nothing either');
    }
    assert.equal(selectorCacheStats().compilations, before, 'nothing was compiled');
  });

  it('still answers the cheap checks first', async () => {
    const none = await getText(url([['other', 'x']]));
    assert.equal(none.status, 400);
    assert.match(none.body, /At least one topic/);
    const tooMany = Array.from(
      { length: 101 },
      (_, n) => ['topic', `https://example.com/${n}`] as [string, string],
    );
    assert.equal((await getText(url(tooMany))).status, 400);
    assert.equal((await getText(url([['match_typo', 'x']]))).status, 400);
  });
});

describe('budgets are options', () => {
  it('validates them and applies the configured values', async () => {
    const h = await startHub({
      anonymous: true,
      maxSelectorCost: 20,
      maxSubscriberSelectorCost: 30,
    });
    try {
      const u = (topics: string[]) => {
        const url = new URL(h.url);
        for (const t of topics) url.searchParams.append('topic', t);
        return url.toString();
      };
      const one = await getText(u(['https://example.com/{a}{b}']));
      assert.equal(one.status, 400);
      assert.match(one.body, /maxSelectorCost\) is 20/);
      const two = await getText(
        u([
          'https://example.com/a/{id}',
          'https://example.com/b/{id}',
          'https://example.com/c/{id}',
        ]),
      );
      assert.equal(two.status, 400);
      assert.match(two.body, /maxSubscriberSelectorCost\) is 30/);
      const conn = await openSse(u(['https://example.com/a/{id}', 'https://example.com/b/{id}']));
      assert.equal(conn.status, 200);
      conn.close();
    } finally {
      await h.close();
    }
    await assert.rejects(startHub({ maxSelectorCost: 0 }), (err) =>
      isSseHubError(err, 'INVALID_OPTION'),
    );
    await assert.rejects(startHub({ maxSubscriberSelectorCost: 1.5 }), (err) =>
      isSseHubError(err, 'INVALID_OPTION'),
    );
  });
});
