import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isSseHubError } from '../../src/errors.js';
import {
  encodeComment,
  encodeEvent,
  encodeRetry,
  formatEvent,
} from '../../src/protocol/encoder.js';

const text = (b: Uint8Array) => Buffer.from(b).toString('utf8');

describe('encodeEvent', () => {
  const cases: [string, Parameters<typeof encodeEvent>[0], string][] = [
    ['data only', { data: 'hi' }, 'data: hi\n\n'],
    [
      'all fields in order',
      { id: '7', event: 'tick', retry: 1500, data: 'x' },
      'id: 7\nevent: tick\nretry: 1500\ndata: x\n\n',
    ],
    ['LF splits data', { data: 'a\nb' }, 'data: a\ndata: b\n\n'],
    ['CR splits data', { data: 'a\rb' }, 'data: a\ndata: b\n\n'],
    ['CRLF splits data once', { data: 'a\r\nb' }, 'data: a\ndata: b\n\n'],
    ['trailing newline keeps an empty line', { data: 'a\n' }, 'data: a\ndata: \n\n'],
    ['empty data is still an event', { data: '' }, 'data: \n\n'],
    ['id alone', { id: 'x' }, 'id: x\n\n'],
    ['empty id resets', { id: '' }, 'id: \n\n'],
    ['non-ASCII text', { data: 'żółw 🐢' }, 'data: żółw 🐢\n\n'],
    ['leading space kept', { data: ' x' }, 'data:  x\n\n'],
    ['retry zero', { retry: 0 }, 'retry: 0\n\n'],
  ];
  for (const [name, fields, expected] of cases) {
    it(name, () => assert.equal(text(encodeEvent(fields)), expected));
  }

  it('returns a Buffer reusable for many writes', () => {
    const b = encodeEvent({ data: 'x' });
    assert.ok(Buffer.isBuffer(b));
    assert.equal(text(b), text(b));
  });

  const rejects: [string, unknown, string][] = [
    ['LF in id', { id: 'a\nb' }, 'INVALID_EVENT_FIELD'],
    ['CR in id', { id: 'a\rb' }, 'INVALID_EVENT_FIELD'],
    ['NUL in id', { id: 'a\0b' }, 'INVALID_EVENT_FIELD'],
    ['LF in event', { event: 'a\nb' }, 'INVALID_EVENT_FIELD'],
    ['NUL in event', { event: 'a\0' }, 'INVALID_EVENT_FIELD'],
    ['negative retry', { retry: -1 }, 'INVALID_RETRY'],
    ['fractional retry', { retry: 1.5 }, 'INVALID_RETRY'],
    ['NaN retry', { retry: Number.NaN }, 'INVALID_RETRY'],
    ['string retry', { retry: '10' }, 'INVALID_RETRY'],
    ['number data', { data: 5 }, 'INVALID_EVENT'],
    ['number id', { id: 5 }, 'INVALID_EVENT'],
    ['null event', null, 'INVALID_EVENT'],
  ];
  for (const [name, fields, code] of rejects) {
    it(`rejects ${name} with ${code}`, () => {
      assert.throws(
        () => formatEvent(fields as Parameters<typeof formatEvent>[0]),
        (err: unknown) => isSseHubError(err) && err.code === code,
      );
    });
  }
});

describe('encodeComment / encodeRetry', () => {
  it('encodes comments, one line each', () => {
    assert.equal(text(encodeComment()), ':\n\n');
    assert.equal(text(encodeComment('ping')), ': ping\n\n');
    assert.equal(text(encodeComment('a\nb')), ': a\n: b\n\n');
  });
  it('encodes retry frames and rejects bad values', () => {
    assert.equal(text(encodeRetry(3000)), 'retry: 3000\n\n');
    assert.throws(
      () => encodeRetry(-5),
      (e: unknown) => isSseHubError(e, 'INVALID_RETRY'),
    );
  });
});
