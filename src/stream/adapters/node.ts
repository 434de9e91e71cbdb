import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Http2ServerRequest, Http2ServerResponse } from 'node:http2';
import { EventStream } from '../event-stream.js';
import type { EventSink, SinkListener } from '../sink.js';
import type { CloseReason, EventStreamOptions } from '../types.js';
import { lastEventIdFrom } from './last-event-id.js';
import { socketSinkFor } from './node-socket.js';

export { lastEventIdFrom };

/** A node:http (Express too) or node:http2 compatibility-API request. */
export type NodeRequest = IncomingMessage | Http2ServerRequest;
/** A node:http (Express too) or node:http2 compatibility-API response. */
export type NodeResponse = ServerResponse | Http2ServerResponse;

// The part both response classes share, so one sink serves both without overload unions.
interface ResponseLike {
  readonly headersSent: boolean;
  readonly writableEnded: boolean;
  readonly destroyed?: boolean;
  readonly stream?: { readonly destroyed: boolean };
  readonly socket: { readonly destroyed: boolean } | null;
  writeHead(status: number, headers: Record<string, string | string[]>): unknown;
  write(chunk: Uint8Array | string): boolean;
  cork(): void;
  uncork(): void;
  end(): unknown;
  destroy(): unknown;
  on(event: string, listener: (arg?: unknown) => void): unknown;
  off(event: string, listener: (arg?: unknown) => void): unknown;
}

interface QueuedSocket {
  readonly destroyed: boolean;
  on(event: 'close', listener: () => void): unknown;
  off(event: 'close', listener: () => void): unknown;
}

class NodeResponseSink implements EventSink {
  readonly http1: boolean;
  readonly lastEventId: string | undefined;
  readonly #res: ResponseLike;
  /**
   * An HTTP/1.x response pipelined behind another on its connection has no socket yet, and if
   * the connection closes before its turn comes, node:http never reports its `close` (nor does
   * a detached stream ahead of it let the server abort it): its request's socket says when the
   * client left.
   */
  readonly #queuedOn: QueuedSocket | undefined;

  constructor(req: NodeRequest, res: ResponseLike) {
    this.http1 = req.httpVersionMajor < 2;
    this.lastEventId = lastEventIdFrom(req.headers);
    this.#res = res;
    this.#queuedOn =
      this.http1 && res.socket === null
        ? ((req.socket as QueuedSocket | null) ?? undefined)
        : undefined;
  }

  get headersSent(): boolean {
    return this.#res.headersSent || this.#res.writableEnded;
  }

  get gone(): boolean {
    const res = this.#res;
    return (
      res.destroyed === true ||
      res.stream?.destroyed === true ||
      !!res.socket?.destroyed ||
      this.#queuedOn?.destroyed === true
    );
  }

  writeHead(status: number, headers: Record<string, string | string[]>): void {
    this.#res.writeHead(status, headers);
  }

  write(chunk: Uint8Array | string): boolean {
    return this.#res.write(chunk);
  }

  cork(): void {
    this.#res.cork();
  }

  uncork(): void {
    this.#res.uncork();
  }

  close(reason: CloseReason): void {
    if (reason === 'server') this.#res.end();
    else this.#res.destroy();
  }

  listen(listener: SinkListener): () => void {
    const res = this.#res;
    const onDrain = (): void => listener.drain();
    const onClose = (): void => listener.close();
    const onError = (error: unknown): void => listener.close(error ?? new Error('response error'));
    res.on('drain', onDrain);
    res.on('close', onClose);
    res.on('error', onError);
    const queuedOn = this.#queuedOn;
    queuedOn?.on('close', onClose);
    return () => {
      res.off('drain', onDrain);
      res.off('close', onClose);
      res.off('error', onError);
      queuedOn?.off('close', onClose);
    };
  }
}

/**
 * Turns a node:http response (also Express's `res`) or a node:http2 compatibility-API response
 * into an event stream. Headers already set with `res.setHeader` (e.g. by CORS middleware) are
 * kept. Throws STREAM_HEADERS_SENT if the response already started.
 */
export function createEventStream(
  req: NodeRequest,
  res: NodeResponse,
  options?: EventStreamOptions,
): EventStream {
  const sink =
    socketSinkFor(req, res, options?.status ?? 200, options?.detach === true) ??
    new NodeResponseSink(req, res as unknown as ResponseLike);
  return new EventStream(sink, options);
}
