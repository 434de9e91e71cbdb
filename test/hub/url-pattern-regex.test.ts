// Which regular-expression constructs a URL pattern may use (Mercure, URL Pattern: a linear-time
// engine, or a cost limit). Accepted constructs must match exactly as the URL Pattern standard
// says, so each is compared against urlpattern-polyfill's own (backtracking) matcher on topics
// where that is safe; refused ones must be 400 INVALID_TOPIC naming the construct and the reason.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { URLPattern } from 'urlpattern-polyfill/urlpattern';
import { isSseHubError } from '../../src/errors.js';
import { compileSelector } from '../../src/hub/selectors/topic-selector.js';

const accepted: [construct: string, pattern: string, topics: string[]][] = [
  [
    'named group (?<n>…)',
    'https://example.com/books/(\\d+(?<suffix>-[a-z]+)?)',
    ['/books/12', '/books/12-ab', '/books/12-', '/books/x-ab', '/books/'],
  ],
  [
    'nested named groups and alternation',
    'https://example.com/:kind((?<a>books)|(?<b>authors))/:id',
    ['/books/1', '/authors/1', '/films/1', '/books'],
  ],
  ['\\p{L}', 'https://example.com/w/(\\p{L}+)', ['/w/abc', '/w/ab1', '/w/%C3%A9', '/w/']],
  ['\\P{L}', 'https://example.com/w/(\\P{L}+)', ['/w/123', '/w/1a', '/w/-_~']],
  [
    '\\p{…} in a class, Script=Latin, Lu',
    'https://example.com/w/([\\p{Lu}\\d]+)/(\\p{Script=Latin}+)',
    ['/w/AB1/xyz', '/w/aB/xyz', '/w/AB/x1'],
  ],
  [
    '\\p{ASCII_Hex_Digit}',
    'https://example.com/h/(\\p{ASCII_Hex_Digit}{4})',
    ['/h/0fA9', '/h/0fg9'],
  ],
  ['\\cJ and \\x escapes', 'https://example.com/e/(\\x41[\\cJ\\x42]?)', ['/e/A', '/e/AB', '/e/AC']],
  ['lazy quantifiers', 'https://example.com/l/(a+?b*?)', ['/l/a', '/l/aab', '/l/b']],
];

const refused: [construct: RegExp, pattern: string][] = [
  [/lookahead "\(\?=".*second match/, 'https://example.com/x/(a(?=b)b)'],
  [/lookahead "\(\?!"/, 'https://example.com/x/(a(?!c)b)'],
  [/lookbehind "\(\?<="/, 'https://example.com/x/(a(?<=a)b)'],
  [/lookbehind "\(\?<!"/, 'https://example.com/x/(a(?<!c)b)'],
  [/back-reference "\\1".*no finite automaton/, 'https://example.com/x/(a(?:b)\\1)'],
  [/back-reference "\\k<…>"/, 'https://example.com/x/(a(?<n>b)\\k<n>)'],
  [/word boundary "\\b".*zero-width/, 'https://example.com/x/(a\\b)'],
  [/word boundary "\\B"/, 'https://example.com/x/(a\\Bb)'],
  [/anchor "\^"/, 'https://example.com/x/(a|^b)'],
  [/anchor "\$"/, 'https://example.com/x/(a$|b)'],
];

describe('URL pattern regular expressions', () => {
  for (const [construct, pattern, paths] of accepted) {
    it(`accepts ${construct} and matches as urlpattern-polyfill does`, () => {
      const ours = compileSelector(pattern, 'urlpattern');
      const reference = new URLPattern(pattern);
      for (const path of paths) {
        const topic = `https://example.com${path}`;
        assert.equal(
          ours.matches(topic),
          reference.test(topic),
          `${pattern} vs ${topic}: ours ${ours.matches(topic)}`,
        );
      }
    });
  }

  it('matches \\p{…} on percent-encoded components only (URL components are ASCII)', () => {
    // A non-ASCII letter never reaches the automaton: the URL parser percent-encodes it.
    for (const topic of ['https://example.com/é', 'https://é.example/x?é#é', 'urn:é']) {
      assert.match(new URL(topic).href, /^[\x20-\x7e]*$/);
    }
    const letters = compileSelector('https://example.com/w/(\\p{L}+)', 'urlpattern');
    assert.equal(letters.matches('https://example.com/w/é'), false);
    assert.equal(
      new URLPattern('https://example.com/w/(\\p{L}+)').test('https://example.com/w/é'),
      false,
    );
  });

  for (const [message, pattern] of refused) {
    it(`refuses ${message.source} with 400 INVALID_TOPIC saying why`, () => {
      // The polyfill itself accepts the pattern: the refusal is the hub's rule.
      assert.doesNotThrow(() => new URLPattern(pattern));
      assert.throws(
        () => compileSelector(pattern, 'urlpattern'),
        (err: unknown) => isSseHubError(err, 'INVALID_TOPIC') && message.test(err.message),
      );
    });
  }

  it('refuses an unknown property as the polyfill does', () => {
    assert.throws(
      () => compileSelector('https://example.com/(\\p{Nope}+)', 'urlpattern'),
      (err) => isSseHubError(err, 'INVALID_TOPIC'),
    );
  });
});
