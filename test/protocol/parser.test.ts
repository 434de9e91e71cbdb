import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isSseHubError } from '../../src/errors.js';
import { EventStreamParser, parseEventStream } from '../../src/protocol/parser.js';
import type { ParsedEvent } from '../../src/protocol/types.js';

const ev = (data: string, type = 'message', lastEventId = ''): ParsedEvent => ({
  type,
  data,
  lastEventId,
});

describe('parser: WHATWG rules', () => {
  const cases: [string, string, ParsedEvent[]][] = [
    ['simple event', 'data: hello\n\n', [ev('hello')]],
    ['LF endings', 'data: a\n\ndata: b\n\n', [ev('a'), ev('b')]],
    ['CR endings', 'data: a\r\rdata: b\r\r', [ev('a'), ev('b')]],
    ['CRLF endings', 'data: a\r\n\r\ndata: b\r\n\r\n', [ev('a'), ev('b')]],
    ['mixed endings', 'data: a\r\ndata: b\rdata: c\n\n', [ev('a\nb\nc')]],
    ['multi-line data joined with LF', 'data: a\ndata: b\n\n', [ev('a\nb')]],
    ['only one space stripped', 'data:  two\n\n', [ev(' two')]],
    ['no space after colon', 'data:x\n\n', [ev('x')]],
    ['field without colon is empty value', 'data\ndata\n\n', [ev('\n')]],
    ['data with empty value dispatches', 'data:\n\n', [ev('')]],
    ['comment lines ignored', ': hi\ndata: x\n:\n\n', [ev('x')]],
    ['unknown fields ignored', 'foo: bar\ndata: x\nDATA: y\n\n', [ev('x')]],
    ['event sets type', 'event: tick\ndata: 1\n\n', [ev('1', 'tick')]],
    [
      'type resets after dispatch',
      'event: tick\ndata: 1\n\ndata: 2\n\n',
      [ev('1', 'tick'), ev('2')],
    ],
    ['empty event name means message', 'event:\ndata: 1\n\n', [ev('1')]],
    ['no data: not dispatched', 'event: tick\n\nid: 3\n\n', []],
    ['trailing unterminated event discarded', 'data: a\n\ndata: b\n', [ev('a')]],
    ['unterminated last line discarded', 'data: a\n\ndata: b', [ev('a')]],
    ['id sets lastEventId', 'id: 1\ndata: a\n\n', [ev('a', 'message', '1')]],
    [
      'id persists across events',
      'id: 1\ndata: a\n\ndata: b\n\n',
      [ev('a', 'message', '1'), ev('b', 'message', '1')],
    ],
    ['empty id resets', 'id: 1\ndata: a\n\nid\ndata: b\n\n', [ev('a', 'message', '1'), ev('b')]],
    [
      'id with NUL ignored',
      'id: 1\ndata: a\n\nid: 2\0x\ndata: b\n\n',
      [ev('a', 'message', '1'), ev('b', 'message', '1')],
    ],
    ['id on event without data still sets it', 'id: 9\n\ndata: b\n\n', [ev('b', 'message', '9')]],
    ['leading BOM ignored', '\uFEFFdata: a\n\n', [ev('a')]],
    ['second BOM is data', '\uFEFF\uFEFFdata: a\n\n', []],
    ['colon in value kept', 'data: a:b: c\n\n', [ev('a:b: c')]],
    ['space before colon is part of name', 'data : x\n\n', []],
    ['non-ASCII', 'data: żółw 🐢\n\n', [ev('żółw 🐢')]],
    ['NUL in data kept', 'data: a\0b\n\n', [ev('a\0b')]],
  ];
  for (const [name, input, expected] of cases) {
    it(name, () => assert.deepEqual(parseEventStream(input), expected));
  }

  it('retry only when all ASCII digits', () => {
    const retries: number[] = [];
    const p = new EventStreamParser({ onEvent() {}, onRetry: (ms) => retries.push(ms) });
    p.feed('retry: 1000\nretry: 10a\nretry: -1\nretry:\nretry: 1.5\nretry: ٣\nretry:0\n\n');
    assert.deepEqual(retries, [1000, 0]);
  });

  it('reports comments without the colon', () => {
    const comments: string[] = [];
    const p = new EventStreamParser({ onEvent() {}, onComment: (c) => comments.push(c) });
    p.feed(': ping\n:\n\n');
    assert.deepEqual(comments, [' ping', '']);
  });

  it('lastEventId starts from the option and survives end() for the next connection', () => {
    const events: ParsedEvent[] = [];
    const p = new EventStreamParser({ onEvent: (e) => events.push(e) }, { lastEventId: '5' });
    p.feed('data: a\n\nid: 6\ndata: b\n\nid: 7\ndata: half');
    p.end();
    assert.equal(p.lastEventId, '6');
    p.feed('data: c\n\n');
    assert.deepEqual(
      events.map((e) => e.lastEventId),
      ['5', '6', '6'],
    );
  });
});

describe('parser: chunking', () => {
  it('CRLF split across two chunks is one line ending', () => {
    const events: ParsedEvent[] = [];
    const p = new EventStreamParser({ onEvent: (e) => events.push(e) });
    p.feed('data: a\r');
    p.feed('\ndata: b\r');
    p.feed('\n\r');
    p.feed('\n');
    assert.deepEqual(events, [ev('a\nb')]);
  });

  it('CR at chunk end followed by a non-LF chunk', () => {
    const events: ParsedEvent[] = [];
    const p = new EventStreamParser({ onEvent: (e) => events.push(e) });
    p.feed('data: a\r');
    p.feed('\r');
    assert.deepEqual(events, [ev('a')]);
  });

  it('multibyte characters split across byte chunks survive', () => {
    const bytes = Buffer.from('data: żółw 🐢 €\n\n', 'utf8');
    for (let i = 1; i < bytes.length; i++) {
      const events: ParsedEvent[] = [];
      const p = new EventStreamParser({ onEvent: (e) => events.push(e) });
      p.feed(bytes.subarray(0, i));
      p.feed(bytes.subarray(i));
      assert.deepEqual(events, [ev('żółw 🐢 €')], `split at byte ${i}`);
    }
  });

  it('BOM split across byte chunks is stripped once', () => {
    const events: ParsedEvent[] = [];
    const p = new EventStreamParser({ onEvent: (e) => events.push(e) });
    p.feed(Uint8Array.of(0xef, 0xbb));
    p.feed(Uint8Array.of(0xbf, ...Buffer.from('data: x\n\n')));
    assert.deepEqual(events, [ev('x')]);
  });
});

describe('parser: size guard', () => {
  it('an endless line throws LINE_TOO_LONG', () => {
    const p = new EventStreamParser({ onEvent() {} }, { maxEventSize: 1024 });
    assert.throws(
      () => {
        for (let i = 0; i < 100; i++) p.feed('x'.repeat(100));
      },
      (e: unknown) => isSseHubError(e, 'LINE_TOO_LONG'),
    );
  });
  it('an event whose data lines add up past the limit throws', () => {
    const p = new EventStreamParser({ onEvent() {} }, { maxEventSize: 1024 });
    assert.throws(
      () => p.feed(`data: ${'y'.repeat(600)}\n`.repeat(3)),
      (e: unknown) => isSseHubError(e, 'LINE_TOO_LONG'),
    );
  });
  it('events within the limit pass', () => {
    const events = parseEventStream(`data: ${'z'.repeat(1000)}\n\n`, { maxEventSize: 1024 });
    assert.equal(events[0]?.data.length, 1000);
  });
  it('rejects a nonsense limit', () => {
    assert.throws(
      () => new EventStreamParser({ onEvent() {} }, { maxEventSize: 0 }),
      (e: unknown) => isSseHubError(e, 'INVALID_OPTION'),
    );
  });
});
