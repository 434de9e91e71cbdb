import type { CloseReason } from './types.js';

/** What an adapter tells its stream about the connection underneath. */
export interface SinkListener {
  /** The sink can take more bytes after a `write` returned false. */
  drain(): void;
  /** The connection went away (client left, or the response errored). */
  close(error?: unknown): void;
}

/**
 * The framework adapter under an {@link EventStream}: the few operations an HTTP response must
 * offer. Each adapter in `adapters/` is a thin object of this shape.
 */
export interface EventSink {
  /**
   * True on HTTP/1.x, the only version where `Connection: keep-alive` may be sent. False on
   * HTTP/2 (which forbids connection headers) and where the version is not known (a fetch
   * `Response`, whose server owns the connection).
   */
  readonly http1: boolean;
  /** The request's `Last-Event-ID` header, if any. */
  readonly lastEventId: string | undefined;
  /** True when the response already started; an event stream needs a fresh one. */
  readonly headersSent: boolean;
  /** True when the connection is already gone, so no `close` will ever be reported. */
  readonly gone: boolean;
  /** Sends the status line and headers. Called once, before any write. */
  writeHead(status: number, headers: Record<string, string | string[]>): void;
  /**
   * Takes the whole chunk (never a part of it; text is written as UTF-8); false means the buffer
   * below is full and the caller should wait for `drain` before writing more.
   */
  write(chunk: Uint8Array | string): boolean;
  /** Optional batching around several writes (Node's cork/uncork). */
  cork?(): void;
  uncork?(): void;
  /**
   * Ends the response: gracefully for `server`; for any other reason the connection is dropped
   * without flushing (it is gone, broken, or stuck). A graceful close that does not finish within
   * CLOSE_DRAIN_TIMEOUT_MS is followed by `close('error')`; so it may be called twice, and must
   * tolerate a dead connection.
   */
  close(reason: CloseReason): void;
  /** Starts reporting drain and close to `listener`; returns the function that stops it. */
  listen(listener: SinkListener): () => void;
}
