import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EARLIEST, planHistory } from '../../src/hub/core/history.js';
import {
  type HistoryEntry,
  HistoryGapError,
  HistoryPages,
} from '../../src/hub/core/history-pages.js';
import { LoopSlicer } from '../../src/hub/core/loop-slicer.js';
import { createMemoryTransport } from '../../src/transport/memory.js';
import type { Transport, Update } from '../../src/transport/types.js';

function update(id: string, topic = 'https://x/a'): Update {
  return { id, topics: [topic], data: `data of ${id}`, private: false };
}

/** A memory transport that counts its page reads. */
function counted(maxHistory = 1000): { transport: Transport; reads: () => number } {
  const inner = createMemoryTransport({ maxHistory });
  let reads = 0;
  const transport: Transport = {
    publish: (u) => inner.publish(u),
    subscribe: (l) => inner.subscribe(l),
    replay: (a, o) => inner.replay(a, o),
    positionOf: (id) => inner.positionOf(id),
    bounds: () => inner.bounds(),
    read: (a, u, l) => {
      reads++;
      return inner.read(a, u, l);
    },
    lastId: () => inner.lastId(),
    close: () => inner.close(),
  };
  return { transport, reads: () => reads };
}

async function publish(transport: Transport, n: number, from = 0): Promise<void> {
  for (let i = from; i < from + n; i++) await transport.publish(update(`u${i}`));
}

async function collect(pages: AsyncIterable<readonly HistoryEntry[]>): Promise<string[][]> {
  const out: string[][] = [];
  for await (const page of pages) out.push(page.map((e) => e.update.id));
  return out;
}

const slicer = new LoopSlicer(10);

describe('HistoryPages', () => {
  it('reads a range in aligned pages, the partial last page included', async () => {
    const { transport } = counted();
    await publish(transport, 10); // positions 1..10
    const pages = new HistoryPages(transport, slicer, { pageSize: 4, maxBytes: 1 << 20 });
    // (2, 9]: the rest of page (0, 4], page (4, 8], and the unfinished (8, 12] up to 9.
    assert.deepEqual(await collect(pages.range(2, 9)), [
      ['u2', 'u3'],
      ['u4', 'u5', 'u6', 'u7'],
      ['u8'],
    ]);
    assert.deepEqual(await collect(pages.range(10, 10)), []);
  });

  it('shares full pages between replays, with their frames', async () => {
    const { transport, reads } = counted();
    await publish(transport, 8);
    const pages = new HistoryPages(transport, slicer, { pageSize: 4, maxBytes: 1 << 20 });
    const [a, b] = await Promise.all([collect(pages.range(0, 8)), collect(pages.range(0, 8))]);
    assert.deepEqual(a, b);
    assert.equal(reads(), 2, 'two pages, each read once for both replays');
    const frames: Buffer[] = [];
    for (let i = 0; i < 2; i++) {
      for await (const page of pages.range(0, 4)) frames.push(pages.frame(page[0]!));
    }
    assert.equal(frames[0], frames[1], 'the same Buffer for both');
    assert.equal(reads(), 2);
  });

  it('keeps the cache within its byte bound', async () => {
    const { transport, reads } = counted();
    await publish(transport, 40);
    const pages = new HistoryPages(transport, slicer, { pageSize: 4, maxBytes: 2000 });
    await collect(pages.range(0, 40));
    assert.ok(pages.cachedBytes <= 2000, `${pages.cachedBytes} bytes cached`);
    const before = reads();
    await collect(pages.range(0, 40));
    assert.ok(reads() > before, 'evicted pages are read again');
  });

  it('fails with HistoryGapError when updates were trimmed before the reader reached them', async () => {
    const { transport } = counted(6);
    await publish(transport, 6); // positions 1..6, all retained
    const pages = new HistoryPages(transport, slicer, { pageSize: 2, maxBytes: 0 });
    const seen: string[] = [];
    await assert.rejects(async () => {
      for await (const page of pages.range(0, 6)) {
        seen.push(...page.map((e) => e.update.id));
        // A burst trims the retained history past what this reader has read.
        if (seen.length === 2) await publish(transport, 6, 100);
      }
    }, HistoryGapError);
    assert.deepEqual(seen, ['u0', 'u1']);
  });

  it('lets a replay of everything retained start later than planned', async () => {
    const { transport } = counted(4);
    await publish(transport, 4);
    const pages = new HistoryPages(transport, slicer, { pageSize: 2, maxBytes: 0 });
    const { oldest, newest } = await transport.bounds();
    await publish(transport, 1, 100); // trims the oldest before the first read
    const ids = (
      await collect(pages.range(oldest - 1, newest, { trimmedStartIsLoss: false }))
    ).flat();
    assert.deepEqual(ids, ['u1', 'u2', 'u3']);
  });
});

describe('HistoryPages: the page still being written', () => {
  it('is read once for many concurrent replays near the head, and extended, not re-read', async () => {
    const { transport, reads } = counted();
    await publish(transport, 10); // positions 1..10, page (0, 256] unfinished
    const pages = new HistoryPages(transport, slicer, { pageSize: 256, maxBytes: 1 << 20 });
    const all = await Promise.all(
      Array.from({ length: 100 }, (_, i) => collect(pages.range(i % 10, 10))),
    );
    all.forEach((got, i) => {
      assert.deepEqual(got.flat(), ids(i % 10, 10));
    });
    assert.equal(reads(), 1);
    // Frames are shared too.
    const frames = new Set<Buffer>();
    for (let i = 0; i < 3; i++) {
      for await (const page of pages.range(0, 10)) frames.add(pages.frame(page[0]!));
    }
    assert.equal(frames.size, 1);
    await publish(transport, 5, 10); // positions 11..15
    assert.deepEqual((await collect(pages.range(8, 15))).flat(), ids(8, 15));
    assert.equal(reads(), 2, 'one more read, for what the page did not hold yet');
  });

  it('charges encoded frames to the cache', async () => {
    const { transport } = counted();
    await publish(transport, 4);
    const pages = new HistoryPages(transport, slicer, { pageSize: 4, maxBytes: 1 << 20 });
    const [page] = await collect2(pages.range(0, 4));
    const before = pages.cachedBytes;
    const frame = pages.frame(page![0]!);
    assert.equal(pages.cachedBytes, before + frame.byteLength);
  });

  it('lets an earliest replay skip several pages trimmed before it read anything', async () => {
    const { transport } = counted(4);
    await publish(transport, 4); // positions 1..4
    const pages = new HistoryPages(transport, slicer, { pageSize: 2, maxBytes: 0 });
    const { oldest, newest } = await transport.bounds();
    await publish(transport, 4, 100); // positions 5..8: 1..4 are trimmed
    const got = (
      await collect(pages.range(oldest - 1, newest + 4, { trimmedStartIsLoss: false }))
    ).flat();
    assert.deepEqual(got, ['u100', 'u101', 'u102', 'u103']);
  });
});

function ids(from: number, to: number): string[] {
  return Array.from({ length: to - from }, (_, i) => `u${from + i}`);
}

async function collect2(range: AsyncIterable<readonly HistoryEntry[]>) {
  const out: (readonly HistoryEntry[])[] = [];
  for await (const page of range) out.push(page);
  return out;
}

describe('planHistory', () => {
  const everything = () => true;

  it('replays everything after a known id, and everything for earliest or an unknown id', async () => {
    const { transport } = counted();
    await publish(transport, 5);
    const pages = new HistoryPages(transport, slicer, { pageSize: 2, maxBytes: 1 << 20 });
    const known = await planHistory(transport, pages, everything, 'u2', 100);
    assert.deepEqual(known, { after: 3, until: 5, lastEventId: 'u2' });
    const earliest = await planHistory(transport, pages, everything, EARLIEST, 100);
    assert.deepEqual(earliest, { after: 0, until: 5, lastEventId: EARLIEST });
    const unknown = await planHistory(transport, pages, everything, 'nope', 100);
    assert.deepEqual(unknown, { after: 0, until: 5, lastEventId: EARLIEST });
  });

  it('keeps the newest maxReplay accepted updates and names the last one dropped', async () => {
    const { transport } = counted();
    for (let i = 0; i < 10; i++) {
      await transport.publish(update(`u${i}`, i % 2 === 0 ? 'https://x/even' : 'https://x/odd'));
    }
    const pages = new HistoryPages(transport, slicer, { pageSize: 3, maxBytes: 1 << 20 });
    const even = (u: Update) => u.topics[0] === 'https://x/even';
    // Even updates: u0 u2 u4 u6 u8; the newest three are u4 u6 u8, so u2 is the last dropped.
    const plan = await planHistory(transport, pages, even, EARLIEST, 3);
    assert.equal(plan.lastEventId, 'u2');
    assert.equal(plan.after, await transport.positionOf('u2'));
    const sent: string[] = [];
    for await (const page of pages.range(plan.after, plan.until)) {
      for (const e of page) if (even(e.update)) sent.push(e.update.id);
    }
    assert.deepEqual(sent, ['u4', 'u6', 'u8']);
    // With room for all of them nothing is dropped.
    assert.equal((await planHistory(transport, pages, even, EARLIEST, 5)).lastEventId, EARLIEST);
    // maxReplay 0: nothing is replayed, and the header names the newest accepted update.
    assert.equal((await planHistory(transport, pages, even, EARLIEST, 0)).lastEventId, 'u8');
  });

  it('plans again when the store trims the range while it is counted', async () => {
    const { transport } = counted(20);
    await publish(transport, 20); // u0..u19, positions 1..20
    // A burst arrives while the counting pass reads its first page: u0..u14 are trimmed.
    let burst = true;
    const racing: Transport = {
      ...transport,
      read: async (a, u, l) => {
        const page = await transport.read(a, u, l);
        if (burst) {
          burst = false;
          await publish(transport, 15, 100);
        }
        return page;
      },
    };
    const pages = new HistoryPages(racing, slicer, { pageSize: 4, maxBytes: 0 });
    // More than maxReplay follow u2, so the range is counted; u2 is gone by the second attempt.
    const plan = await planHistory(racing, pages, everything, 'u2', 5);
    assert.notEqual(plan.lastEventId, 'u2');
    const sent = (await collect(pages.range(plan.after, plan.until))).flat();
    assert.equal(sent.length, 5);
    assert.deepEqual(sent, ['u110', 'u111', 'u112', 'u113', 'u114']);
  });
});
