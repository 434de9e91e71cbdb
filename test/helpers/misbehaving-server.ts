import {
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type OutgoingHttpHeaders,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request as the server saw it. */
export interface RecordedRequest {
  /** 0 for the first request this server received, then 1, 2, … */
  index: number;
  method: string;
  /** Path and query. */
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/** The handle a script gets for one connection (one request). */
export interface ScriptedConnection {
  readonly index: number;
  readonly request: RecordedRequest;
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  /** A complete non-stream answer. */
  reply(status: number, headers?: OutgoingHttpHeaders, body?: string): Promise<void>;
  /** Starts an event stream: 200, text/event-stream, headers flushed at once. */
  open(headers?: OutgoingHttpHeaders): Promise<void>;
  /** Writes one chunk and waits until the socket took it. */
  write(chunk: string | Uint8Array): Promise<void>;
  /**
   * Writes the bytes of `chunk` in pieces cut at `cuts` (byte offsets; default: after every
   * byte), each its own HTTP chunk and TCP write, so the client sees bytes split anywhere,
   * including inside a UTF-8 character or between CR and LF.
   */
  writeSplit(chunk: string | Uint8Array, cuts?: number[]): Promise<void>;
  /** Ends the response cleanly (the server closing the stream). */
  end(): Promise<void>;
  /** Cuts the TCP connection mid-response, as a crash or a network failure would. */
  drop(): void;
  /** Resolves when the connection is gone (either side closed it). */
  readonly closed: Promise<void>;
}

/** Decides what one connection gets; called once per request, with its index. */
export type ConnectionScript = (conn: ScriptedConnection) => void | Promise<void>;

export interface MisbehavingServer {
  /** `http://127.0.0.1:<port>` */
  readonly origin: string;
  /** Every request so far, in arrival order. */
  readonly requests: readonly RecordedRequest[];
  /** Resolves with the requests once `count` have arrived; rejects after `timeoutMs`. */
  waitForRequests(count: number, timeoutMs?: number): Promise<RecordedRequest[]>;
  close(): Promise<void>;
}

const toBytes = (chunk: string | Uint8Array): Uint8Array =>
  typeof chunk === 'string' ? new TextEncoder().encode(chunk) : chunk;

/**
 * A real node:http server on 127.0.0.1:0 whose every connection follows `script`: tests use it
 * to drop connections mid-event, split bytes, answer errors, stay silent, and to record the
 * headers each reconnect carried.
 */
export async function startMisbehavingServer(script: ConnectionScript): Promise<MisbehavingServer> {
  const requests: RecordedRequest[] = [];
  const waiters: { count: number; resolve: () => void }[] = [];

  const server = createServer((req, res) => {
    req.socket.setNoDelay(true);
    const parts: Buffer[] = [];
    req.on('data', (part: Buffer) => parts.push(part));
    req.on('end', () => {
      const request: RecordedRequest = {
        index: requests.length,
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(parts).toString('utf8'),
      };
      requests.push(request);
      for (const w of waiters.filter((x) => requests.length >= x.count)) w.resolve();
      const conn = scripted(request, req, res);
      Promise.resolve()
        .then(() => script(conn))
        .catch(() => {
          // A script racing a client that already left is expected; the test asserts the rest.
          res.destroy();
        });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    origin: `http://127.0.0.1:${port}`,
    requests,
    waitForRequests(count, timeoutMs = 10_000) {
      if (requests.length >= count) return Promise.resolve(requests.slice());
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`expected ${count} requests, got ${requests.length}`)),
          timeoutMs,
        );
        waiters.push({
          count,
          resolve: () => {
            clearTimeout(timer);
            resolve(requests.slice());
          },
        });
      });
    },
    close() {
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function scripted(
  request: RecordedRequest,
  req: IncomingMessage,
  res: ServerResponse,
): ScriptedConnection {
  const closed = new Promise<void>((resolve) => {
    res.once('close', () => resolve());
  });
  const write = (chunk: string | Uint8Array): Promise<void> =>
    new Promise((resolve) => {
      if (res.destroyed || res.writableEnded) return resolve();
      // Resolves on error too: a client that left is part of the misbehaviour, not a failure.
      res.write(chunk, () => resolve());
    });
  return {
    index: request.index,
    request,
    req,
    res,
    closed,
    reply(status, headers = {}, body = '') {
      return new Promise((resolve) => {
        res.writeHead(status, headers);
        res.end(body, () => resolve());
      });
    },
    async open(headers = {}) {
      res.writeHead(200, {
        'Content-Type': 'text/event-stream',
        'Cache-Control': 'no-cache',
        ...headers,
      });
      // Not flushHeaders(): it writes header text as UTF-8, mangling non-ASCII (byte) values.
      await new Promise<void>((resolve) => res.write(Buffer.alloc(0), () => resolve()));
    },
    write,
    async writeSplit(chunk, cuts) {
      const bytes = toBytes(chunk);
      const points = (cuts ?? Array.from({ length: bytes.length }, (_, i) => i + 1)).filter(
        (c) => c > 0 && c < bytes.length,
      );
      let from = 0;
      for (const to of [...points, bytes.length]) {
        await write(bytes.subarray(from, to));
        // One macrotask between writes so each piece leaves in its own TCP segment.
        await new Promise((resolve) => setImmediate(resolve));
        from = to;
      }
    },
    end() {
      return new Promise((resolve) => {
        if (res.writableEnded) return resolve();
        res.end(() => resolve());
      });
    },
    drop() {
      req.socket.destroy();
    },
  };
}

/** One event in SSE framing (LF line endings). */
export function frame(id: string, data: string, event?: string): string {
  return `${event ? `event: ${event}\n` : ''}id: ${id}\ndata: ${data}\n\n`;
}
