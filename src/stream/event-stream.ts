import { SseHubError } from '../errors.js';
import { encodeRetry, formatComment, formatEvent } from '../protocol/encoder.js';
import type { EventFields } from '../protocol/types.js';
import { type HeartbeatMember, heartbeats } from './heartbeat.js';
import { CLOSE_DRAIN_TIMEOUT_MS, eventStreamHeaders, resolveStreamOptions } from './options.js';
import type { EventSink } from './sink.js';
import type { CloseReason, EventStreamApi, EventStreamOptions } from './types.js';

// The first bytes on the wire: they push the headers out at once (some stacks hold headers back
// until the first body byte) and tell the client the stream is live.
const OPEN_FRAME = Buffer.from(': ok\n\n', 'utf8');
// The smallest valid comment; shared by every heartbeat of every stream.
const HEARTBEAT_FRAME = Buffer.from(':\n\n', 'utf8');
// Past this many already-written slots at the head of the queue, compact it.
const QUEUE_COMPACT_AT = 1024;

// Stands in for the sink once the stream is closed, so a stream that user code keeps around does
// not pin the response (and its socket) in memory.
const DETACHED_SINK: EventSink = {
  http1: false,
  lastEventId: undefined,
  headersSent: true,
  gone: true,
  writeHead() {},
  write: () => false,
  close() {},
  listen: () => () => {},
};

/**
 * One long-lived `text/event-stream` response over an {@link EventSink}. Writes never block: when
 * the socket is full, frames wait in a bounded queue (the caller's Buffers, not copies) and go out
 * on `drain`; past `maxQueueBytes` the stream closes with reason `overflow`. Create one through an
 * adapter such as `createEventStream(req, res)`.
 */
export class EventStream implements EventStreamApi {
  readonly lastEventId: string | undefined;
  #sink: EventSink;
  readonly #maxQueueBytes: number;
  #closed = false;
  #closeReason: CloseReason | undefined;
  // True after the sink's write returned false, until it drains: new frames go to the queue.
  #blocked = false;
  #queue: (Uint8Array | undefined)[] = [];
  #head = 0;
  #queuedBytes = 0;
  #beat: HeartbeatMember | undefined;
  #unlisten: (() => void) | undefined;
  #closeListeners: ((reason: CloseReason) => void)[] = [];
  #drainWaiters: (() => void)[] = [];

  /**
   * Writes the headers (and `retry:` when set), then the opening comment. Throws INVALID_OPTION
   * for bad options and STREAM_HEADERS_SENT when the response already started.
   */
  constructor(sink: EventSink, options?: EventStreamOptions) {
    const opts = resolveStreamOptions(options);
    if (sink.headersSent) throw new SseHubError('STREAM_HEADERS_SENT');
    this.#sink = sink;
    this.#maxQueueBytes = opts.maxQueueBytes;
    this.lastEventId = sink.lastEventId;
    sink.writeHead(opts.status, eventStreamHeaders(opts.headers, sink.http1));
    this.#unlisten = sink.listen({
      drain: () => this.#onDrain(),
      close: (error) => this.#end(error === undefined ? 'client' : 'error'),
    });
    if (sink.gone) {
      this.#end('client');
      return;
    }
    this.#push(
      opts.retry === undefined ? OPEN_FRAME : Buffer.concat([encodeRetry(opts.retry), OPEN_FRAME]),
    );
    if (opts.heartbeatMs > 0 && !this.#closed) {
      this.#beat = {
        ms: opts.heartbeatMs,
        wrote: false,
        idleSince: 0,
        beat: () => this.#heartbeat(),
      };
      heartbeats.add(this.#beat);
    }
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Why the stream ended, once it has. */
  get closeReason(): CloseReason | undefined {
    return this.#closeReason;
  }

  get queuedBytes(): number {
    return this.#queuedBytes;
  }

  /** True while the socket is full and new frames wait in the queue. */
  get needsDrain(): boolean {
    return this.#blocked;
  }

  send(event: EventFields): boolean {
    if (this.#closed) return false;
    // The frame goes down as text: the socket encodes it while writing, which saves a Buffer
    // per call on this per-client path (fan-out should encode once and use `write`).
    return this.#write(formatEvent(event));
  }

  write(frame: Uint8Array): boolean {
    if (this.#closed) return false;
    if (!(frame instanceof Uint8Array)) {
      throw new SseHubError('INVALID_EVENT', 'a frame must be a Uint8Array');
    }
    return this.#write(frame);
  }

  comment(text?: string): boolean {
    if (this.#closed) return false;
    return this.#write(formatComment(text));
  }

  close(): void {
    this.#end('server');
  }

  onClose(listener: (reason: CloseReason) => void): () => void {
    if (this.#closeReason !== undefined) {
      listener(this.#closeReason);
      return noop;
    }
    this.#closeListeners.push(listener);
    return () => {
      const at = this.#closeListeners.indexOf(listener);
      if (at !== -1) this.#closeListeners.splice(at, 1);
    };
  }

  /** Resolves once queued frames have reached the socket (at once if none wait), or on close. */
  whenDrained(): Promise<void> {
    if (!this.#blocked || this.#closed) return Promise.resolve();
    return new Promise((resolve) => this.#drainWaiters.push(resolve));
  }

  #write(frame: Uint8Array | string): boolean {
    if (frame.length > 0) this.#push(frame);
    return !this.#closed;
  }

  #push(frame: Uint8Array | string): void {
    if (this.#beat !== undefined) this.#beat.wrote = true;
    if (!this.#blocked) {
      if (!this.#sink.write(frame)) this.#blocked = true;
      return;
    }
    // Only a waiting frame needs its size in bytes, so text becomes bytes only here.
    const chunk = typeof frame === 'string' ? Buffer.from(frame, 'utf8') : frame;
    if (this.#queuedBytes + chunk.byteLength > this.#maxQueueBytes) {
      this.#end('overflow');
      return;
    }
    this.#queue.push(chunk);
    this.#queuedBytes += chunk.byteLength;
  }

  #heartbeat(): void {
    // A blocked stream has bytes waiting already; a heartbeat would only grow its queue.
    if (!this.#blocked) this.#push(HEARTBEAT_FRAME);
  }

  #onDrain(): void {
    if (this.#closed) return;
    this.#blocked = false;
    const queue = this.#queue;
    if (this.#head < queue.length) {
      const sink = this.#sink;
      // One corked batch lets the stack write many small frames with one syscall.
      sink.cork?.();
      while (this.#head < queue.length) {
        const chunk = queue[this.#head] as Uint8Array;
        queue[this.#head++] = undefined;
        this.#queuedBytes -= chunk.byteLength;
        if (!sink.write(chunk)) {
          this.#blocked = true;
          break;
        }
      }
      sink.uncork?.();
      if (this.#head === queue.length) {
        queue.length = 0;
        this.#head = 0;
      } else if (this.#head >= QUEUE_COMPACT_AT) {
        queue.splice(0, this.#head);
        this.#head = 0;
      }
    }
    if (!this.#blocked) this.#wakeDrainWaiters();
  }

  #wakeDrainWaiters(): void {
    if (this.#drainWaiters.length === 0) return;
    const waiters = this.#drainWaiters;
    this.#drainWaiters = [];
    for (const resolve of waiters) resolve();
  }

  #end(reason: CloseReason): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#closeReason = reason;
    if (this.#beat !== undefined) {
      heartbeats.delete(this.#beat);
      this.#beat = undefined;
    }
    this.#unlisten?.();
    this.#unlisten = undefined;
    // A graceful close still delivers what was accepted: hand the (bounded) queue to the sink,
    // which buffers it and flushes before ending. Other reasons mean nobody will read it.
    if (reason === 'server' && this.#head < this.#queue.length) {
      const queue = this.#queue;
      this.#sink.cork?.();
      for (let i = this.#head; i < queue.length; i++) this.#sink.write(queue[i] as Uint8Array);
      this.#sink.uncork?.();
    }
    this.#queue = [];
    this.#head = 0;
    this.#queuedBytes = 0;
    this.#blocked = false;
    const sink = this.#sink;
    this.#sink = DETACHED_SINK;
    // Clean-up and every listener run even if one throws. Nothing is rethrown: #end often runs
    // inside a socket 'close' handler, where a throw would be an uncaught exception that takes
    // the whole process (and every other stream) down for one listener's bug.
    try {
      if (reason === 'server' && !sink.gone) boundGracefulClose(sink, CLOSE_DRAIN_TIMEOUT_MS);
      sink.close(reason);
    } catch (error) {
      reportCloseError(error);
    }
    this.#wakeDrainWaiters();
    const listeners = this.#closeListeners;
    this.#closeListeners = [];
    for (const listener of listeners) {
      try {
        listener(reason);
      } catch (error) {
        reportCloseError(error);
      }
    }
  }
}

function noop(): void {}

/**
 * Drops the connection if a graceful close has not finished within `ms`: bytes still buffered
 * (queued or below the socket's high-water mark) go out only if the client reads, and one that
 * stopped reading would keep the response open forever. Armed on every graceful close, not only
 * a blocked one, since a full kernel buffer can hold back even an unblocked stream's tail.
 */
function boundGracefulClose(sink: EventSink, ms: number): void {
  let stop: () => void = noop;
  const timer = setTimeout(() => {
    stop();
    sink.close('error');
  }, ms);
  // A pending close must not keep the process alive.
  timer.unref?.();
  stop = sink.listen({
    drain: noop,
    close: () => {
      clearTimeout(timer);
      stop();
    },
  });
}

function reportCloseError(error: unknown): void {
  if (typeof process === 'undefined' || typeof process.emitWarning !== 'function') return;
  const message = error instanceof Error ? error.message : String(error);
  const detail = error instanceof Error ? error.stack : undefined;
  process.emitWarning(`an event stream close listener threw: ${message}`, {
    code: 'SSEHUB_CLOSE_LISTENER',
    ...(detail === undefined ? {} : { detail }),
  });
}
