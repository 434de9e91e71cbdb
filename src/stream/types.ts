import type { EventFields } from '../protocol/types.js';

/** What happens when a client stops reading and its queue passes `maxQueueBytes`. */
export type OverflowPolicy = 'close';

export interface EventStreamOptions {
  /**
   * Interval of the heartbeat comment, in ms; 0 turns heartbeats off. Default 15 000: below the
   * 30–60 s idle timeouts of common proxies and load balancers.
   */
  heartbeatMs?: number;
  /**
   * Bytes that may wait for a slow client before the overflow policy applies. Default 256 KiB:
   * hundreds of typical updates of burst, while 10k stuck clients pin at most ~2.5 GiB (lower it
   * for more clients per process).
   */
  maxQueueBytes?: number;
  /** Only `close`: end the stream; the client reconnects and resumes from its Last-Event-ID. */
  onOverflow?: OverflowPolicy;
  /** Sent as `retry:` right after the headers. */
  retry?: number;
  /** Extra response headers (CORS, Last-Event-ID, …). */
  headers?: Record<string, string | string[]>;
  /** Response status; default 200. */
  status?: number;
  /**
   * node:http, HTTP/1.x only: once the head is sent, the stream takes the connection over from
   * the HTTP server, which frees the request and response objects and the server's parser (about
   * 5 KB per stream). The response then emits nothing more (no `close`, no `finish`): watch the
   * stream (`onClose`) or the socket instead. It emits `DETACH_EVENT` with the socket first.
   * Default false.
   */
  detach?: boolean;
}

/** Why a stream ended. */
export type CloseReason = 'client' | 'server' | 'overflow' | 'error';

/**
 * One long-lived `text/event-stream` response. Implemented in `event-stream.ts`; created through
 * an adapter (node:http, http2, express, koa, fastify, fetch).
 */
export interface EventStreamApi {
  /** The `Last-Event-ID` request header, if the client sent one. */
  readonly lastEventId: string | undefined;
  readonly closed: boolean;
  /** Bytes queued because the socket was full. */
  readonly queuedBytes: number;
  /** Encodes and writes one event. Returns false once the stream is closed. */
  send(event: EventFields): boolean;
  /** Writes an already-encoded frame; share one Buffer among all streams that get the event. */
  write(frame: Uint8Array): boolean;
  /** Writes a comment line. */
  comment(text?: string): boolean;
  /** Ends the response; idempotent. */
  close(): void;
  /**
   * True while the socket is full and new frames wait in the queue. Optional: a writer of a long
   * burst (history replay) checks it to pace itself instead of overflowing the queue.
   */
  readonly needsDrain?: boolean;
  /** Resolves once queued frames reached the socket (at once if none wait), or on close. */
  whenDrained?(): Promise<void>;
  /**
   * Calls `listener` once when the stream closes for any reason (at once if it already has).
   * Returns the function that removes it. A listener that throws is reported as a process
   * warning; it never stops the other listeners or crashes the socket's close handler.
   */
  onClose(listener: (reason: CloseReason) => void): () => void;
}
