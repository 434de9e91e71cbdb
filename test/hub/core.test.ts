import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { HistoryReplay } from '../../src/hub/core/history.js';
import type { HistoryEntry } from '../../src/hub/core/history-pages.js';
import { HubCore } from '../../src/hub/core/hub-core.js';
import { LoopSlicer } from '../../src/hub/core/loop-slicer.js';
import { Subscriber } from '../../src/hub/core/subscriber.js';
import { encodeUpdate } from '../../src/hub/core/update-frame.js';
import { MatcherCache } from '../../src/hub/selectors/matcher-cache.js';
import {
  compileSubscriptionSelector,
  type SelectorMode,
} from '../../src/hub/selectors/selector.js';
import type { TopicMatcher } from '../../src/hub/types.js';
import type { CloseReason, EventStreamApi } from '../../src/stream/types.js';
import type { Update } from '../../src/transport/types.js';
import { silentLogger } from '../helpers/hub-server.js';

// Records the frames a subscriber writes (by identity), standing in for a socket.
class RecordingStream implements EventStreamApi {
  readonly lastEventId = undefined;
  closed = false;
  readonly queuedBytes = 0;
  readonly frames: Uint8Array[] = [];
  #listeners: ((reason: CloseReason) => void)[] = [];
  send(): boolean {
    throw new Error('the hub writes pre-encoded frames only');
  }
  write(frame: Uint8Array): boolean {
    this.frames.push(frame);
    return true;
  }
  comment(): boolean {
    return true;
  }
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const listener of this.#listeners) listener('server');
  }
  onClose(listener: (reason: CloseReason) => void): () => void {
    this.#listeners.push(listener);
    return () => {
      this.#listeners = this.#listeners.filter((l) => l !== listener);
    };
  }
  /** The events written, one string each (a coalesced write carries several). */
  text(): string[] {
    return this.frames.flatMap((f) =>
      Buffer.from(f)
        .toString('utf8')
        .split(/(?<=\n\n)/)
        .filter((t) => t.length > 0),
    );
  }
}

// A stream whose socket fills after every frame until `drain()`, as a slow client's does.
class BlockingStream extends RecordingStream {
  needsDrain = false;
  #waiters: (() => void)[] = [];
  override write(frame: Uint8Array): boolean {
    super.write(frame);
    this.needsDrain = true;
    return true;
  }
  whenDrained(): Promise<void> {
    if (!this.needsDrain) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push(resolve));
  }
  /** Like EventStream: closing wakes a writer waiting for drain. */
  override close(): void {
    super.close();
    for (const resolve of this.#waiters.splice(0)) resolve();
  }
  /** From now on the socket keeps up: wakes the writer and stops blocking. */
  drain(): void {
    this.write = (frame) => RecordingStream.prototype.write.call(this, frame);
    this.needsDrain = false;
    for (const resolve of this.#waiters.splice(0)) resolve();
  }
  ids(): string[] {
    return this.text().map((t) => t.split('\n')[0]!.slice('id: '.length));
  }
}

const cache = new MatcherCache('https://hub.example.com/.well-known/mercure');

function subscriber(
  selectors: [string, SelectorMode][],
  read: string[] = [],
): { sub: Subscriber; stream: RecordingStream } {
  const sub = new Subscriber({
    id: `urn:uuid:${Math.random()}`,
    selectors: selectors.map(([s, m]) => compileSubscriptionSelector(s, m, cache)),
    claims: { subscribe: read },
    readMatchers: read.map((r) => cache.get(r, 'template')) as TopicMatcher[],
    maxBufferBytes: 1024,
  });
  const stream = new RecordingStream();
  return { sub, stream };
}

function update(id: string, topics: string[], extra: Partial<Update> = {}): Update {
  return { id, topics, data: `data of ${id}`, private: false, ...extra };
}

/**
 * A core fed as a transport would: every update gets the next position. `sliceMs` 0 makes every
 * dispatch yield the loop after its first checks (the hub's default slice is 10 ms).
 */
class Feed {
  readonly core: HubCore;
  position = 0;
  constructor(sliceMs = 60_000) {
    this.core = new HubCore(silentLogger(), new LoopSlicer(sliceMs));
  }
  dispatch(u: Update): number {
    this.position++;
    this.core.dispatch(u, this.position);
    return this.position;
  }
  /**
   * Lets the loop turn end: updates dispatched after the first of a turn are coalesced and go
   * out there.
   */
  settle(): Promise<void> {
    return new Promise((resolve) => setImmediate(resolve));
  }
}

/** A replay of `history` (with its positions), as the hub's paged history would hand it over. */
function replayOf(history: [number, Update][], until?: number): HistoryReplay {
  const entries: HistoryEntry[] = history.map(([position, u]) => ({
    position,
    update: u,
    frame: undefined,
  }));
  const last = entries.length > 0 ? entries[entries.length - 1]!.position : 0;
  return {
    plan: { after: 0, until: until ?? last, lastEventId: 'earliest' },
    async *pages() {
      // Two entries a page, so tests cross page boundaries.
      for (let i = 0; i < entries.length; i += 2) yield entries.slice(i, i + 2);
    },
    frame: (entry) => (entry.frame ??= encodeUpdate(entry.update)),
    breather: () => undefined,
  };
}

describe('HubCore', () => {
  it('encodes an update once and writes the same Buffer to every subscriber', () => {
    const feed = new Feed();
    const core = feed.core;
    const a = subscriber([['https://x/1', 'template']]);
    const b = subscriber([['*', 'template']]);
    const c = subscriber([['https://x/{n}', 'template']]);
    for (const { sub, stream } of [a, b, c]) {
      core.add(sub);
      sub.start(stream);
    }
    feed.dispatch(update('u1', ['https://x/1']));
    assert.equal(a.stream.frames.length, 1);
    assert.equal(a.stream.frames[0], b.stream.frames[0]);
    assert.equal(a.stream.frames[0], c.stream.frames[0]);
    assert.equal(a.stream.text()[0], 'id: u1\ndata: data of u1\n\n');
  });

  it('indexes exact topics by lookup and scans only patterns', () => {
    const feed = new Feed();
    const core = feed.core;
    const subs = [
      subscriber([['https://x/1', 'template']]),
      subscriber([['https://x/1', 'exact']]),
      subscriber([['https://x/{n}', 'template']]),
      subscriber([['https://x/{n}', 'template']]),
      subscriber([['https://x/:n', 'urlpattern']]),
      subscriber([['*', 'exact']]),
    ];
    for (const { sub } of subs) core.add(sub);
    // One exact key, two distinct patterns (shared by three subscribers), one wildcard.
    assert.deepEqual(core.index.sizes, { exact: 1, patterns: 2, wildcard: 1 });
    for (const { sub } of subs) core.delete(sub);
    assert.deepEqual(core.index.sizes, { exact: 0, patterns: 0, wildcard: 0 });
    assert.equal(core.size, 0);
  });

  it('delivers once to a subscriber matched through several topics and selectors', async () => {
    const feed = new Feed();
    const core = feed.core;
    const s = subscriber([
      ['https://x/1', 'template'],
      ['https://x/2', 'template'],
      ['https://x/{n}', 'template'],
      ['*', 'template'],
    ]);
    core.add(s.sub);
    s.sub.start(s.stream);
    feed.dispatch(update('u1', ['https://x/1', 'https://x/2']));
    feed.dispatch(update('u2', ['https://x/2']));
    feed.dispatch(update('u3', ['https://x/1', 'https://x/2', 'https://x/9']));
    await feed.settle();
    assert.deepEqual(
      s.stream.text().map((t) => t.split('\n')[0]),
      ['id: u1', 'id: u2', 'id: u3'],
    );
    // u1 alone at once; u2 and u3, later in the same turn, in one write.
    assert.equal(s.stream.frames.length, 2);
  });

  it('applies the private-update rule on every topic of the update', () => {
    const feed = new Feed();
    const core = feed.core;
    const reader = subscriber([['*', 'template']], ['https://x/alt']);
    const stranger = subscriber([['*', 'template']], ['https://y/{n}']);
    for (const { sub, stream } of [reader, stranger]) {
      core.add(sub);
      sub.start(stream);
    }
    feed.dispatch(update('p', ['https://x/canonical', 'https://x/alt'], { private: true }));
    assert.equal(reader.stream.frames.length, 1);
    assert.equal(stranger.stream.frames.length, 0);
  });

  it('buffers live updates during replay and skips those the history already held', async () => {
    const feed = new Feed();
    const core = feed.core;
    const s = subscriber([['t', 'template']]);
    core.add(s.sub);
    // Arrive while the history is being read: u2 is in that history too, u3 is not.
    feed.position = 1;
    feed.dispatch(update('u2', ['t']));
    feed.dispatch(update('u3', ['t']));
    await s.sub.start(
      s.stream,
      replayOf(
        [
          [1, update('u1', ['t'])],
          [2, update('u2', ['t'])],
        ],
        2,
      ),
    );
    feed.dispatch(update('u4', ['t']));
    await feed.settle();
    assert.deepEqual(
      s.stream.text().map((t) => t.split('\n')[0]),
      ['id: u1', 'id: u2', 'id: u3', 'id: u4'],
    );
  });

  it('cuts off a subscriber whose replay buffer overflows before its history went out', async () => {
    const feed = new Feed();
    const core = feed.core;
    const s = subscriber([['t', 'template']]);
    core.add(s.sub);
    let ended: string | undefined;
    s.sub.onEnd((reason) => {
      ended = reason;
      core.delete(s.sub);
    });
    for (let i = 0; i < 20; i++) feed.dispatch(update(`u${i}`, ['t'], { data: 'x'.repeat(100) }));
    await feed.settle();
    await s.sub.start(s.stream, replayOf([[1, update('h', ['t'])]], 1));
    assert.equal(ended, 'overflow');
    assert.equal(s.stream.closed, true);
    assert.equal(core.size, 0);
    // Like a slow live client: cut off at once, it resumes from the last id it received.
    assert.deepEqual(s.stream.frames, []);
  });

  it('paces the replay by the socket, buffering live updates until the history is out', async () => {
    const feed = new Feed();
    const core = feed.core;
    const s = subscriber([['t', 'template']]);
    const stream = new BlockingStream();
    core.add(s.sub);
    const history = replayOf([
      [1, update('h1', ['t'])],
      [2, update('h2', ['t'])],
      [3, update('h3', ['t'])],
    ]);
    feed.position = 3;
    const replay = s.sub.start(stream, history);
    // Pages are handed over asynchronously: let the first one arrive.
    while (stream.frames.length === 0) await new Promise((resolve) => setImmediate(resolve));
    // The socket filled up after the first frame: the replay waits for it.
    assert.deepEqual(stream.ids(), ['h1']);
    feed.dispatch(update('live', ['t']));
    await feed.settle();
    assert.deepEqual(stream.ids(), ['h1']);
    assert.equal(s.sub.live, false);
    stream.drain();
    await replay;
    assert.deepEqual(stream.ids(), ['h1', 'h2', 'h3', 'live']);
    assert.equal(s.sub.live, true);
    await feed.settle();
    // The first update of a turn is written at once.
    feed.dispatch(update('after', ['t']));
    assert.deepEqual(stream.ids(), ['h1', 'h2', 'h3', 'live', 'after']);
  });

  it('stops encoding the history once the stream closed', async () => {
    const s = subscriber([['t', 'template']]);
    const stream = new RecordingStream();
    const write = stream.write.bind(stream);
    stream.write = (frame) => {
      write(frame);
      stream.close();
      return false;
    };
    // The second update cannot be encoded: reaching it would throw.
    await s.sub.start(
      stream,
      replayOf([
        [1, update('h1', ['t'])],
        [2, update('bad\nid', ['t'])],
      ]),
    );
    assert.equal(stream.frames.length, 1);
    assert.equal(s.sub.ended, true);
  });

  it('skips encoding when nobody receives the update', () => {
    const feed = new Feed();
    const core = feed.core;
    const s = subscriber([['other', 'template']]);
    core.add(s.sub);
    s.sub.start(s.stream);
    // An update that cannot be encoded would throw if it were encoded.
    feed.dispatch(update('bad\nid', ['t']));
    assert.equal(s.stream.frames.length, 0);
  });

  it('queues an update dispatched from inside a delivery, keeping order and uniqueness', () => {
    const feed = new Feed();
    const core = feed.core;
    const a = subscriber([
      ['t', 'template'],
      ['*', 'template'],
    ]);
    const b = subscriber([
      ['t', 'template'],
      ['*', 'template'],
    ]);
    for (const { sub, stream } of [a, b]) {
      core.add(sub);
      sub.start(stream);
    }
    // As a transport that emits synchronously would when a delivery triggers a publish.
    const write = a.stream.write.bind(a.stream);
    a.stream.write = (frame) => {
      const first = a.stream.frames.length === 0;
      const ok = write(frame);
      if (first) feed.dispatch(update('u2', ['t']));
      return ok;
    };
    feed.dispatch(update('u1', ['t']));
    for (const { stream } of [a, b]) {
      assert.deepEqual(
        stream.text().map((t) => t.split('\n')[0]),
        ['id: u1', 'id: u2'],
      );
    }
  });
});

describe('HubCore: dispatch in slices', () => {
  const turn = () => new Promise((resolve) => setImmediate(resolve));

  it('yields the loop during a long fan-out, then reaches everyone once and in order', async () => {
    // A zero slice: every dispatch pauses after its first checks, as a long one would.
    const feed = new Feed(0);
    const subs = Array.from({ length: 500 }, () => subscriber([['t', 'template']]));
    for (const { sub, stream } of subs) {
      feed.core.add(sub);
      sub.start(stream);
    }
    feed.dispatch(update('u1', ['t']));
    const reachedAtOnce = subs.filter((s) => s.stream.frames.length === 1).length;
    assert.ok(reachedAtOnce > 0 && reachedAtOnce < subs.length, `${reachedAtOnce} reached`);
    // Dispatched while u1 is still on its way: it waits behind u1 for every subscriber.
    feed.dispatch(update('u2', ['t']));
    let ioRan = false;
    setImmediate(() => {
      ioRan = true;
    });
    while (feed.core.backlog.queued > 0 || subs.some((s) => s.stream.frames.length < 2)) {
      await turn();
    }
    assert.ok(ioRan);
    assert.ok(feed.core.backlog.pauses >= 2, `paused ${feed.core.backlog.pauses} times`);
    for (const { stream } of subs) {
      assert.deepEqual(
        stream.text().map((t) => t.split('\n')[0]),
        ['id: u1', 'id: u2'],
      );
    }
  });

  it('offers a subscriber that joins mid-dispatch only the updates dispatched after it joined', async () => {
    const feed = new Feed(0);
    const early = Array.from({ length: 300 }, () => subscriber([['t', 'template']]));
    for (const { sub, stream } of early) {
      feed.core.add(sub);
      sub.start(stream);
    }
    feed.dispatch(update('before', ['t']));
    const late = subscriber([['t', 'template']]);
    feed.core.add(late.sub);
    late.sub.start(late.stream);
    feed.dispatch(update('after', ['t']));
    while (early.some((s) => s.stream.frames.length < 2) || late.stream.frames.length < 1) {
      await turn();
    }
    assert.deepEqual(
      late.stream.text().map((t) => t.split('\n')[0]),
      ['id: after'],
    );
  });

  it('cuts off a replaying subscriber that stops reading once its live buffer overflows', async () => {
    const feed = new Feed();
    const s = subscriber([['t', 'template']]);
    const stream = new BlockingStream();
    feed.core.add(s.sub);
    let ended: string | undefined;
    s.sub.onEnd((reason) => {
      ended = reason;
      feed.core.delete(s.sub);
    });
    feed.position = 2;
    const replay = s.sub.start(
      stream,
      replayOf([
        [1, update('h1', ['t'])],
        [2, update('h2', ['t'])],
      ]),
    );
    while (stream.frames.length === 0) await turn();
    // The client never drains; live updates pile up past the 1024-byte buffer bound.
    for (let i = 0; i < 20 && ended === undefined; i++) {
      feed.dispatch(update(`live${i}`, ['t'], { data: 'x'.repeat(100) }));
    }
    await feed.settle();
    assert.equal(ended, 'overflow');
    assert.equal(stream.closed, true);
    await replay;
    assert.deepEqual(stream.ids(), ['h1']);
    assert.equal(feed.core.size, 0);
  });
});

describe('HubCore: coalescing', () => {
  function live(feed: Feed, selectors: [string, SelectorMode][], read: string[] = []) {
    const s = subscriber(selectors, read);
    feed.core.add(s.sub);
    s.sub.start(s.stream);
    return s;
  }

  it('writes the first update of a turn at once, the rest of the turn in one shared write', async () => {
    const feed = new Feed();
    const a = live(feed, [['t', 'template']]);
    const b = live(feed, [['t', 'template']]);
    feed.dispatch(update('u1', ['t']));
    // Not held back: written before dispatch returns.
    assert.equal(a.stream.frames.length, 1);
    assert.equal(b.stream.frames.length, 1);
    feed.dispatch(update('u2', ['t']));
    feed.dispatch(update('u3', ['t']));
    assert.equal(a.stream.frames.length, 1, 'later updates of the turn wait for its end');
    await feed.settle();
    for (const s of [a, b]) {
      assert.deepEqual(
        s.stream.text().map((t) => t.split('\n')[0]),
        ['id: u1', 'id: u2', 'id: u3'],
      );
      assert.equal(s.stream.frames.length, 2);
    }
    // Subscribers that take the same updates share one joined buffer.
    assert.equal(a.stream.frames[1], b.stream.frames[1]);
  });

  it('gives each subscriber only its share of a batch, in store order', async () => {
    const feed = new Feed();
    const one = live(feed, [['t1', 'template']]);
    const two = live(feed, [['t2', 'template']]);
    const all = live(feed, [
      ['*', 'template'],
      ['t1', 'template'],
    ]);
    feed.dispatch(update('x', ['t1']));
    feed.dispatch(update('y', ['t2']));
    feed.dispatch(update('z', ['t1', 't2']));
    feed.dispatch(update('w', ['t2']));
    await feed.settle();
    const ids = (s: { stream: RecordingStream }) =>
      s.stream.text().map((t) => t.split('\n')[0]!.slice('id: '.length));
    assert.deepEqual(ids(one), ['x', 'z']);
    assert.deepEqual(ids(two), ['y', 'z', 'w']);
    assert.deepEqual(ids(all), ['x', 'y', 'z', 'w']);
  });

  it('applies the private-update rule to each update of a batch', async () => {
    const feed = new Feed();
    const reader = live(feed, [['*', 'template']], ['https://x/{n}']);
    const stranger = live(feed, [['*', 'template']], ['https://y/{n}']);
    feed.dispatch(update('first', ['https://x/0']));
    feed.dispatch(update('secret', ['https://x/1'], { private: true }));
    feed.dispatch(update('public', ['https://x/2']));
    await feed.settle();
    const ids = (s: { stream: RecordingStream }) =>
      s.stream.text().map((t) => t.split('\n')[0]!.slice('id: '.length));
    assert.deepEqual(ids(reader), ['first', 'secret', 'public']);
    assert.deepEqual(ids(stranger), ['first', 'public']);
  });

  it('keeps batches in order behind a paused dispatch', async () => {
    // A zero slice makes every dispatch pause: updates pile up and go out in batches.
    const feed = new Feed(0);
    const crowd = Array.from({ length: 50 }, () => live(feed, [['t', 'template']]));
    for (let i = 0; i < 40; i++) feed.dispatch(update(`u${i}`, ['t']));
    const expected = Array.from({ length: 40 }, (_, i) => `u${i}`);
    const ids = (s: { stream: RecordingStream }) =>
      s.stream.text().map((t) => t.split('\n')[0]!.slice('id: '.length));
    while (ids(crowd[49]!).length < 40) await feed.settle();
    for (const s of crowd) assert.deepEqual(ids(s), expected);
    // Fewer writes than updates: the backlog was coalesced.
    assert.ok(crowd[0]!.stream.frames.length < 40, `${crowd[0]!.stream.frames.length} writes`);
  });
});
