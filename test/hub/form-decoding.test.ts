import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { isSseHubError } from '../../src/errors.js';
import {
  decodeComponent,
  parseFormBytes,
  parseFormText,
  parseQuery,
} from '../../src/hub/http/form-decoding.js';

function entries(form: URLSearchParams): [string, string][] {
  return [...form];
}

const invalidEncoding = (err: unknown): boolean =>
  isSseHubError(err, 'INVALID_ENCODING') &&
  err.status === 400 &&
  err.message === 'The request contains invalid UTF-8';

describe('strict form decoding', () => {
  const refused: { name: string; input: string }[] = [
    { name: 'a UTF-8-encoded lone surrogate (CESU-8)', input: 'id=%ED%A0%80' },
    { name: 'a low surrogate', input: 'id=%ED%B0%80' },
    { name: 'an overlong slash', input: 'id=%C0%AF' },
    { name: 'an overlong NUL', input: 'data=%C0%80' },
    { name: 'a truncated three-byte sequence', input: 'id=%E2%82' },
    { name: 'a truncated sequence before the next field', input: 'id=%E2%82&data=x' },
    { name: 'a lone continuation byte', input: 'data=%80' },
    { name: 'a byte that never occurs in UTF-8', input: 'topic=%FF' },
    { name: 'a code point past U+10FFFF', input: 'data=%F4%90%80%80' },
    { name: 'invalid UTF-8 in a name', input: '%FF=x' },
    { name: 'invalid UTF-8 in a name without a value', input: 'a=1&%C3' },
    { name: 'a truncated sequence ended by a malformed escape', input: 'data=%E2%82%ZZ' },
  ];
  for (const { name, input } of refused) {
    it(`refuses ${name}: ${input}`, () => {
      assert.throws(() => parseQuery(input), invalidEncoding);
      assert.throws(() => parseFormBytes(Buffer.from(input, 'latin1')), invalidEncoding);
      assert.throws(() => parseFormText(input), invalidEncoding);
      // What URLSearchParams would have stored instead.
      assert.match([...new URLSearchParams(input)].flat().join(''), /\uFFFD/);
    });
  }

  const accepted: { name: string; input: string; expected: [string, string][] }[] = [
    { name: 'a malformed escape, kept literally', input: 'id=%ZZ', expected: [['id', '%ZZ']] },
    { name: 'a lone % at the end', input: 'data=50%', expected: [['data', '50%']] },
    { name: 'a % with one hex digit', input: 'data=%4', expected: [['data', '%4']] },
    { name: 'the euro sign', input: 'data=%E2%82%AC', expected: [['data', '€']] },
    { name: 'lower-case hex', input: 'data=%e2%82%ac', expected: [['data', '€']] },
    { name: 'an emoji (four bytes)', input: 'd=%F0%9F%98%80', expected: [['d', '😀']] },
    { name: 'U+FFFD itself', input: 'd=%EF%BF%BD', expected: [['d', '\uFFFD']] },
    { name: 'a BOM, kept', input: 'd=%EF%BB%BFx', expected: [['d', '\uFEFFx']] },
    { name: 'plus as space', input: 'a+b=c+d', expected: [['a b', 'c d']] },
    { name: 'an encoded plus', input: 'a=%2B', expected: [['a', '+']] },
    {
      name: 'empty sequences skipped',
      input: '&&a=1&&b&=2',
      expected: [
        ['a', '1'],
        ['b', ''],
        ['', '2'],
      ],
    },
    { name: 'the first = splits', input: 'a==b=c', expected: [['a', '=b=c']] },
    {
      name: 'repeated names in order',
      input: 'topic=a&x=1&topic=b',
      expected: [
        ['topic', 'a'],
        ['x', '1'],
        ['topic', 'b'],
      ],
    },
    { name: 'a leading ? (kept, as the form parser does)', input: '?a=1', expected: [['?a', '1']] },
    { name: 'nothing', input: '', expected: [] },
  ];
  for (const { name, input, expected } of accepted) {
    it(`accepts ${name}: ${input}`, () => {
      assert.deepEqual(entries(parseQuery(input)), expected);
      assert.deepEqual(entries(parseFormBytes(Buffer.from(input, 'latin1'))), expected);
      assert.deepEqual(entries(parseFormText(input)), expected);
    });
  }

  it('reads text wider than bytes (a URL rewritten by a framework) as its UTF-8', () => {
    assert.equal(decodeComponent('ł', false), 'ł');
    assert.equal(decodeComponent('a%C5%82ł€', false), 'ałł€');
    assert.throws(() => decodeComponent('\uD800x', false), invalidEncoding);
  });

  it('refuses raw bytes that are not UTF-8 in a body', () => {
    const raw = Buffer.concat([
      Buffer.from('topic=t&data=a'),
      Buffer.from([0xff]),
      Buffer.from('b'),
    ]);
    assert.throws(() => parseFormBytes(raw), invalidEncoding);
    const truncated = Buffer.concat([Buffer.from('data='), Buffer.from([0xe2, 0x82])]);
    assert.throws(() => parseFormBytes(truncated), invalidEncoding);
    const cesu = Buffer.concat([Buffer.from('id='), Buffer.from([0xed, 0xa0, 0x80])]);
    assert.throws(() => parseFormBytes(cesu), invalidEncoding);
  });

  it('keeps raw UTF-8 in a body and mixes it with escapes', () => {
    const raw = Buffer.from('topic=https://example.com/€&data=ü+%F0%9F%98%80', 'utf8');
    assert.deepEqual(entries(parseFormBytes(raw)), [
      ['topic', 'https://example.com/€'],
      ['data', 'ü 😀'],
    ]);
  });

  it('reads a subarray of a larger buffer, not the whole backing store', () => {
    const whole = Buffer.from('xxxxa=1&b=2yyyy');
    assert.deepEqual(
      entries(parseFormBytes(new Uint8Array(whole.buffer, whole.byteOffset + 4, 7))),
      [
        ['a', '1'],
        ['b', '2'],
      ],
    );
  });

  it('refuses a lone surrogate in text a framework already decoded', () => {
    assert.throws(() => parseFormText('data=a\uD800b'), invalidEncoding);
    assert.throws(() => parseFormText('data=%41\uDC00'), invalidEncoding);
    assert.deepEqual(entries(parseFormText('data=a\uD83D\uDE00')), [['data', 'a😀']]);
    assert.deepEqual(entries(parseFormText('data=é')), [['data', 'é']]);
  });

  it('reads query characters up to U+00FF as the raw bytes Node hands over', () => {
    // "â\x82¬" is how the bytes E2 82 AC look when read as Latin-1.
    assert.deepEqual(entries(parseQuery('topic=\u00e2\u0082\u00ac')), [['topic', '€']]);
    assert.throws(() => parseQuery('topic=\u00ff'), invalidEncoding);
    // A character past U+00FF can only be text.
    assert.deepEqual(entries(parseQuery('topic=€')), [['topic', '€']]);
  });

  it('keeps + literal in a path segment when asked', () => {
    assert.equal(decodeComponent('a+b%20c', false), 'a+b c');
    assert.equal(decodeComponent('a+b%20c'), 'a b c');
    assert.throws(() => decodeComponent('%C0%AF', false), invalidEncoding);
  });

  it('agrees with URLSearchParams wherever that did not substitute U+FFFD', () => {
    const piece = fc.constantFrom(
      ...['%', '+', '=', '&', 'a', 'Z', '0', '2', '8', 'A', 'B', 'C', 'D', 'E', 'F', 'f', '9'],
      ...['%E2%82%AC', '%F0%9F%98%80', '%C3%A9', '%ED%A0%80', '%C0%AF', '%E2%82', '%FF', '%80'],
    );
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 30 }), (pieces) => {
        const input = pieces.join('');
        // A leading & keeps URLSearchParams from dropping a leading ?, and changes nothing else.
        const loose = entries(new URLSearchParams(`&${input}`));
        let strict: [string, string][];
        try {
          strict = entries(parseQuery(input));
        } catch (err) {
          assert.ok(invalidEncoding(err), String(err));
          assert.match(loose.flat().join(''), /\uFFFD/, `refused ${input}`);
          return;
        }
        assert.deepEqual(strict, loose, input);
      }),
      { numRuns: 2000 },
    );
  });
});
