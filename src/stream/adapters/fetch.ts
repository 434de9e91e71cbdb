import { SseHubError } from '../../errors.js';
import { EventStream } from '../event-stream.js';
import type { EventSink, SinkListener } from '../sink.js';
import type { CloseReason, EventStreamOptions } from '../types.js';

/**
 * Bytes the `Response` body may hold before writes report back-pressure. 64 KiB keeps a few
 * typical frames in flight without letting an unread body grow.
 */
export const DEFAULT_BODY_HIGH_WATER_MARK = 64 * 1024;

const UTF8 = new TextEncoder();

export interface EventStreamResponseOptions extends EventStreamOptions {
  /** See {@link DEFAULT_BODY_HIGH_WATER_MARK}. */
  bodyHighWaterMark?: number;
}

/** A request as the fetch API models it; only headers and the abort signal are read. */
export interface FetchRequestLike {
  readonly headers: { get(name: string): string | null };
  readonly signal?: AbortSignal;
}

class ResponseSink implements EventSink {
  readonly http1 = false;
  readonly lastEventId: string | undefined;
  headersSent = false;
  response: Response | undefined;
  readonly #signal: AbortSignal | undefined;
  readonly #body: ReadableStream<Uint8Array>;
  #controller: ReadableStreamDefaultController<Uint8Array> | undefined;
  #listener: SinkListener | undefined;
  #done = false;

  constructor(request: FetchRequestLike, highWaterMark: number) {
    this.lastEventId = request.headers.get('last-event-id') ?? undefined;
    this.#signal = request.signal;
    // A default (not a byte) stream: byte streams transfer enqueued buffers, which would detach a
    // frame shared with other streams.
    this.#body = new ReadableStream<Uint8Array>(
      {
        start: (controller) => {
          this.#controller = controller;
        },
        // Called when the reader wants more and the queue is below the mark: that is drain.
        pull: () => {
          this.#listener?.drain();
        },
        cancel: () => {
          this.#done = true;
          this.#listener?.close();
        },
      },
      new ByteLengthQueuingStrategy({ highWaterMark }),
    );
  }

  get gone(): boolean {
    return this.#done || this.#signal?.aborted === true;
  }

  writeHead(status: number, headers: Record<string, string | string[]>): void {
    const out = new Headers();
    for (const [name, value] of Object.entries(headers)) {
      for (const v of typeof value === 'string' ? [value] : value) out.append(name, v);
    }
    this.response = new Response(this.#body, { status, headers: out });
    this.headersSent = true;
  }

  write(chunk: Uint8Array | string): boolean {
    const controller = this.#controller;
    if (this.#done || controller === undefined) return false;
    controller.enqueue(typeof chunk === 'string' ? UTF8.encode(chunk) : chunk);
    return (controller.desiredSize ?? 0) > 0;
  }

  close(reason: CloseReason): void {
    if (this.#done) return;
    this.#done = true;
    if (reason === 'server') this.#controller?.close();
    else
      this.#controller?.error(
        new SseHubError(reason === 'overflow' ? 'QUEUE_OVERFLOW' : 'STREAM_CLOSED'),
      );
  }

  listen(listener: SinkListener): () => void {
    this.#listener = listener;
    const signal = this.#signal;
    const onAbort = (): void => listener.close();
    signal?.addEventListener('abort', onAbort);
    return () => {
      this.#listener = undefined;
      signal?.removeEventListener('abort', onAbort);
    };
  }
}

/**
 * For fetch-style servers (web `Request` in, `Response` out): returns the event stream and the
 * `Response` to hand back, whose body is the stream. Back-pressure follows the body's reader;
 * the stream closes when the body is cancelled or the request's signal aborts. No `Connection`
 * header is set: the server that sends the Response owns the connection.
 */
export function eventStreamResponse(
  request: FetchRequestLike,
  options: EventStreamResponseOptions = {},
): { stream: EventStream; response: Response } {
  const { bodyHighWaterMark = DEFAULT_BODY_HIGH_WATER_MARK, ...streamOptions } = options;
  if (!Number.isSafeInteger(bodyHighWaterMark) || bodyHighWaterMark <= 0) {
    throw new SseHubError('INVALID_OPTION', 'bodyHighWaterMark must be a positive integer');
  }
  const sink = new ResponseSink(request, bodyHighWaterMark);
  const stream = new EventStream(sink, streamOptions);
  return { stream, response: sink.response as Response };
}
