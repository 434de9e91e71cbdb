import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { encodeEvent } from '../../src/protocol/encoder.js';
import { EventStreamParser, parseEventStream } from '../../src/protocol/parser.js';
import type { EventFields, ParsedEvent } from '../../src/protocol/types.js';

const FIXTURES = [
  'data: hello\n\n',
  'data: a\r\rdata: b\r\r',
  'data: a\r\n\r\ndata: b\r\n\r\n',
  'data: a\r\ndata: b\rdata: c\n\n',
  ': hi\nevent: tick\ndata: 1\nid: 4\nretry: 10\n\ndata: 2\n\n',
  'id: 1\ndata: a\n\nid: 2\0x\ndata: b\n\nid\ndata: c\n\n',
  '\uFEFFdata: żółw 🐢 €\n\ndata: x',
  'data\ndata:\ndata:  z\n\nevent: e\n\n',
];

/** Splits `bytes` at the given cut points, feeds the pieces, returns what was dispatched. */
function feedInPieces(
  bytes: Uint8Array,
  cuts: number[],
): { events: ParsedEvent[]; retries: number[] } {
  const events: ParsedEvent[] = [];
  const retries: number[] = [];
  const p = new EventStreamParser({
    onEvent: (e) => events.push(e),
    onRetry: (ms) => retries.push(ms),
  });
  let last = 0;
  for (const cut of [...new Set(cuts)].sort((a, b) => a - b)) {
    p.feed(bytes.subarray(last, cut));
    last = cut;
  }
  p.feed(bytes.subarray(last));
  p.end();
  return { events, retries };
}

describe('parser properties', () => {
  it('every fixture gives the same events in any chunk split as in one piece', () => {
    for (const fixture of FIXTURES) {
      const bytes = Buffer.from(fixture, 'utf8');
      const whole = feedInPieces(bytes, []);
      fc.assert(
        fc.property(
          fc.array(fc.integer({ min: 0, max: bytes.length }), { maxLength: 12 }),
          (cuts) => {
            assert.deepEqual(feedInPieces(bytes, cuts), whole);
          },
        ),
        { numRuns: 300 },
      );
    }
  });

  it('any text with arbitrary line endings parses the same in pieces', () => {
    const line = fc.oneof(
      fc.constantFrom('data: x', 'data:', 'event: t', 'id: 1', 'retry: 5', ': c', ''),
      fc.string({ unit: 'grapheme', maxLength: 8 }),
    );
    const ending = fc.constantFrom('\n', '\r', '\r\n');
    const stream = fc
      .array(fc.tuple(line, ending), { maxLength: 20 })
      .map((parts) => parts.map(([l, e]) => l + e).join(''));
    fc.assert(
      fc.property(stream, fc.array(fc.nat(), { maxLength: 10 }), (text, rawCuts) => {
        const bytes = Buffer.from(text, 'utf8');
        const cuts = rawCuts.map((c) => c % (bytes.length + 1));
        assert.deepEqual(feedInPieces(bytes, cuts), feedInPieces(bytes, []));
      }),
      { numRuns: 500 },
    );
  });
});

describe('encoder → parser round trip', () => {
  const field = fc.string({ unit: 'grapheme' }).filter((s) => !/[\r\n\0]/.test(s));
  const data = fc.string({ unit: 'grapheme', maxLength: 200 });
  const fields = fc.record(
    { id: field, event: field, data, retry: fc.nat() },
    { requiredKeys: ['data'] },
  );

  it('what is encoded is what is parsed, with data line breaks normalized to LF', () => {
    fc.assert(
      fc.property(fc.array(fields, { minLength: 1, maxLength: 5 }), (list: EventFields[]) => {
        const body = Buffer.concat(list.map((f) => encodeEvent(f)));
        const events = parseEventStream(body);
        assert.equal(events.length, list.length);
        let lastId = '';
        list.forEach((f, i) => {
          if (f.id !== undefined) lastId = f.id;
          assert.deepEqual(events[i], {
            type: f.event ? f.event : 'message',
            data: (f.data ?? '').replace(/\r\n|\r/g, '\n'),
            lastEventId: lastId,
          });
        });
      }),
      { numRuns: 500 },
    );
  });
});
