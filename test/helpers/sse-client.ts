// Reads a text/event-stream over a real socket (node:http or node:http2) with ssehub's own parser,
// collecting events, comments and retry values, and lets a test wait for a condition on them
// without sleeping: every arriving chunk re-checks the pending waits.
import http, { type IncomingHttpHeaders } from 'node:http';
import http2 from 'node:http2';
import https from 'node:https';
import { EventStreamParser } from '../../src/protocol/parser.js';
import type { ParsedEvent } from '../../src/protocol/types.js';
import { DEFAULT_WAIT_MS, Waiters } from './waiters.js';

export { DEFAULT_WAIT_MS };

/** One open event stream as the client sees it. */
export class SseConnection {
  status = 0;
  headers: IncomingHttpHeaders = {};
  readonly events: ParsedEvent[] = [];
  readonly comments: string[] = [];
  readonly retries: number[] = [];
  /** Raw body bytes received so far. */
  bytes = 0;
  /** True once the response body ended or the connection broke. */
  ended = false;
  readonly #parser: EventStreamParser;
  readonly #waiters = new Waiters(
    () =>
      `; got ${this.events.length} events, ` +
      `${this.comments.length} comments, ended=${this.ended}`,
  );
  #closer: () => void = () => {};

  /** `lastEventId`: the one the client sent, which a reconnecting EventSource starts from. */
  constructor(lastEventId?: string) {
    this.#parser = new EventStreamParser(
      {
        onEvent: (e) => this.events.push(e),
        onComment: (text) => this.comments.push(text),
        onRetry: (ms) => this.retries.push(ms),
      },
      lastEventId === undefined ? {} : { lastEventId },
    );
  }

  /** @internal */
  setCloser(closer: () => void): void {
    this.#closer = closer;
  }

  /** @internal Feeds body bytes. */
  feed(chunk: Uint8Array): void {
    this.bytes += chunk.byteLength;
    this.#parser.feed(chunk);
    this.#waiters.notify();
  }

  /** @internal Marks the body as over. */
  end(): void {
    if (this.ended) return;
    this.ended = true;
    this.#parser.end();
    this.#waiters.notify();
  }

  /** Resolves once `check()` is true, re-checked on every chunk; rejects after `timeoutMs`. */
  waitFor(check: () => boolean, label: string, timeoutMs = DEFAULT_WAIT_MS): Promise<void> {
    return this.#waiters.waitFor(check, label, timeoutMs);
  }

  /** Waits until at least `n` events arrived and returns them all. */
  async waitForEvents(n: number, timeoutMs?: number): Promise<ParsedEvent[]> {
    await this.waitFor(() => this.events.length >= n, `${n} events`, timeoutMs);
    return this.events;
  }

  /** Waits until the server ends the body (or the connection drops). */
  waitForEnd(timeoutMs?: number): Promise<void> {
    return this.waitFor(() => this.ended, 'the end of the stream', timeoutMs);
  }

  /** Drops the connection from the client side. */
  close(): void {
    this.#closer();
  }
}

export interface OpenOptions {
  headers?: Record<string, string>;
  timeoutMs?: number;
  /** HTTP/1.1 only: the method (default GET) and a request body (e.g. a QUERY subscribe). */
  method?: string;
  body?: string | Buffer;
  /** Over TLS (an https: URL): the certificate(s) to trust, for a test's self-signed one. */
  ca?: string | Buffer;
}

function sentLastEventId(options: OpenOptions): string | undefined {
  const entry = Object.entries(options.headers ?? {}).find(
    ([name]) => name.toLowerCase() === 'last-event-id',
  );
  return entry?.[1];
}

/**
 * Opens an event stream over HTTP/1.1 (over TLS for an https: URL) and resolves once the response
 * headers arrived.
 */
export function openSse(url: string, options: OpenOptions = {}): Promise<SseConnection> {
  const conn = new SseConnection(sentLastEventId(options));
  const request = url.startsWith('https:') ? https.request : http.request;
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: options.method ?? 'GET',
        headers: { accept: 'text/event-stream', ...options.headers },
        agent: false,
        ...(options.ca === undefined ? {} : { ca: options.ca }),
      },
      (res) => {
        clearTimeout(timer);
        conn.status = res.statusCode ?? 0;
        conn.headers = res.headers;
        res.on('data', (chunk: Buffer) => conn.feed(chunk));
        res.on('end', () => conn.end());
        res.on('close', () => conn.end());
        res.on('error', () => conn.end());
        resolve(conn);
      },
    );
    const timer = setTimeout(() => {
      req.destroy();
      reject(new Error(`no response headers from ${url}`));
    }, options.timeoutMs ?? DEFAULT_WAIT_MS);
    req.on('error', (err) => {
      clearTimeout(timer);
      conn.end();
      reject(err);
    });
    conn.setCloser(() => req.destroy());
    req.end(options.body);
  });
}

/**
 * Opens an event stream over HTTP/2 on a new session: cleartext (h2c) for an http: origin, TLS for
 * an https: one; closing the connection closes the session too.
 */
export function openSseH2(
  origin: string,
  path: string,
  options: OpenOptions = {},
): Promise<SseConnection & { session: http2.ClientHttp2Session }> {
  const conn = new SseConnection(sentLastEventId(options));
  const session = http2.connect(origin, options.ca === undefined ? {} : { ca: options.ca });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      session.destroy();
      reject(new Error(`no response headers from ${origin}${path}`));
    }, options.timeoutMs ?? DEFAULT_WAIT_MS);
    session.on('error', (err) => {
      clearTimeout(timer);
      conn.end();
      reject(err);
    });
    const req = session.request({
      ':path': path,
      accept: 'text/event-stream',
      ...options.headers,
    });
    req.on('response', (headers) => {
      clearTimeout(timer);
      conn.status = Number(headers[':status']);
      conn.headers = headers as IncomingHttpHeaders;
      resolve(Object.assign(conn, { session }));
    });
    req.on('data', (chunk: Buffer) => conn.feed(chunk));
    req.on('end', () => conn.end());
    req.on('close', () => conn.end());
    req.on('error', () => conn.end());
    conn.setCloser(() => {
      req.close(http2.constants.NGHTTP2_CANCEL);
      session.close();
    });
  });
}

/** Listens on 127.0.0.1 port 0 and returns the base URL. */
export async function listen(server: {
  listen(port: number, host: string, cb: () => void): unknown;
  address(): unknown;
}): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address() as { port: number };
  return `http://127.0.0.1:${address.port}`;
}

/**
 * Resolves once `check()` holds, polling on a short interval; for server-side state that has no
 * event to wait on. Rejects after `timeoutMs` with `label`.
 */
export async function eventually(
  check: () => boolean | Promise<boolean>,
  label: string,
  timeoutMs = DEFAULT_WAIT_MS,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${label}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
