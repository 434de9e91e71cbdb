import { constants, type IncomingHttpHeaders, type ServerHttp2Stream } from 'node:http2';
import { EventStream } from '../event-stream.js';
import type { EventSink, SinkListener } from '../sink.js';
import type { CloseReason, EventStreamOptions } from '../types.js';
import { lastEventIdFrom } from './last-event-id.js';

// After the stream closes, a late RST from the peer would emit an 'error' with no listener and
// crash the process; this one shared no-op keeps it quiet without a closure per stream.
function ignoreError(): void {}

class Http2StreamSink implements EventSink {
  readonly http1 = false;
  readonly lastEventId: string | undefined;
  readonly #stream: ServerHttp2Stream;

  constructor(stream: ServerHttp2Stream, headers: IncomingHttpHeaders) {
    this.lastEventId = lastEventIdFrom(headers);
    this.#stream = stream;
    stream.on('error', ignoreError);
  }

  get headersSent(): boolean {
    return this.#stream.headersSent;
  }

  get gone(): boolean {
    return this.#stream.destroyed || this.#stream.closed;
  }

  writeHead(status: number, headers: Record<string, string | string[]>): void {
    this.#stream.respond({ ...headers, ':status': status });
  }

  write(chunk: Uint8Array | string): boolean {
    return this.#stream.write(chunk);
  }

  cork(): void {
    this.#stream.cork();
  }

  uncork(): void {
    this.#stream.uncork();
  }

  close(reason: CloseReason): void {
    const stream = this.#stream;
    if (stream.destroyed) return;
    if (reason === 'server') stream.end();
    // RST_STREAM with CANCEL frees the stream now, without waiting for a stuck peer to read.
    else stream.close(constants.NGHTTP2_CANCEL);
  }

  listen(listener: SinkListener): () => void {
    const stream = this.#stream;
    const onDrain = (): void => listener.drain();
    const onClose = (): void => listener.close();
    const onError = (error: unknown): void => listener.close(error);
    stream.on('drain', onDrain);
    stream.on('close', onClose);
    stream.on('error', onError);
    return () => {
      stream.off('drain', onDrain);
      stream.off('close', onClose);
      stream.off('error', onError);
    };
  }
}

/**
 * Turns a node:http2 core-API stream (from the server's `stream` event) into an event stream.
 * Throws STREAM_HEADERS_SENT if the stream already responded.
 */
export function eventStreamFromHttp2Stream(
  stream: ServerHttp2Stream,
  headers: IncomingHttpHeaders,
  options?: EventStreamOptions,
): EventStream {
  return new EventStream(new Http2StreamSink(stream, headers), options);
}
