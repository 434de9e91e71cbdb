import { type IncomingMessage, ServerResponse } from 'node:http';
import type { Http2ServerRequest } from 'node:http2';
import type { Socket } from 'node:net';
import type { EventSink, SinkListener } from '../sink.js';
import type { CloseReason } from '../types.js';
import { detachConnection } from './detach.js';
import { lastEventIdFrom } from './last-event-id.js';

/**
 * The HTTP/1.x sink that writes frames straight to the socket once the headers are out.
 *
 * `ServerResponse.write` frames every write as a chunk (size line, data, CRLF: a three-buffer
 * `writev`), corks the socket and schedules a `nextTick` to uncork it — per write, so per
 * subscriber per update. An event stream never ends with a length it could announce, so its
 * body is sent close-delimited instead (RFC 9112 section 6.3, what nginx+nchan does): no chunk
 * framing, and each frame is one plain `socket.write`, which libuv tries to write at once.
 * Back-pressure stays exact: the socket's own `write()` result and `drain`.
 *
 * The headers go out through the response object (with the first frame). Unless the stream is
 * detached, the response keeps the connection's bookkeeping: a graceful close is its `end()`,
 * which (the body being close-delimited) ends the socket once everything written is flushed.
 * Detached (`detach: true`), the stream takes the connection over after the head (see
 * `detachConnection`) and ends the socket itself.
 */
class NodeSocketSink implements EventSink {
  readonly http1 = true;
  readonly lastEventId: string | undefined;
  // Both undefined once the connection is detached from them.
  #req: IncomingMessage | undefined;
  #res: ServerResponse | undefined;
  readonly #socket: Socket;
  readonly #detach: boolean;
  #headerPending = false;

  constructor(req: IncomingMessage, res: ServerResponse, socket: Socket, detach: boolean) {
    this.lastEventId = lastEventIdFrom(req.headers);
    this.#req = req;
    this.#res = res;
    this.#socket = socket;
    this.#detach = detach;
  }

  get headersSent(): boolean {
    const res = this.#res;
    return res === undefined || res.headersSent || res.writableEnded;
  }

  get gone(): boolean {
    return this.#socket.destroyed;
  }

  writeHead(status: number, headers: Record<string, string | string[]>): void {
    const res = this.#res as ServerResponse;
    // No Transfer-Encoding: the body runs until the connection closes (Node marks the response
    // as the connection's last, so it closes the socket when the response ends). Framing headers
    // set earlier (by a middleware, or in `headers`) would contradict the raw writes: dropped.
    res.useChunkedEncodingByDefault = false;
    res.removeHeader('transfer-encoding');
    res.removeHeader('content-length');
    const framed = Object.keys(headers).filter(isFramingHeader);
    if (framed.length > 0) {
      headers = { ...headers };
      for (const name of framed) delete headers[name];
    }
    res.writeHead(status, headers);
    this.#headerPending = true;
  }

  write(chunk: Uint8Array | string): boolean {
    if (this.#headerPending) {
      // The header block goes out with the first frame, through the response: it writes header
      // text as Latin-1 (flushHeaders would write it as UTF-8, mangling non-ASCII values).
      this.#headerPending = false;
      const ok = (this.#res as ServerResponse).write(chunk);
      // Not now: this may run inside the HTTP parser's own callback (a handler that opens the
      // stream at once), and a parser freed there is put back on the server's connection list
      // when the callback returns. After pending I/O the parse is over.
      if (this.#detach) setImmediate(NodeSocketSink.#detachSoon, this);
      return ok;
    }
    return this.#socket.write(chunk);
  }

  static #detachSoon(sink: NodeSocketSink): void {
    const req = sink.#req;
    const res = sink.#res;
    // Ended (a graceful close went through the response) or gone meanwhile: nothing to take over.
    if (req === undefined || res === undefined || res.writableEnded) return;
    if (detachConnection(req, res, sink.#socket)) {
      sink.#req = undefined;
      sink.#res = undefined;
    }
  }

  cork(): void {
    this.#socket.cork();
  }

  uncork(): void {
    this.#socket.uncork();
  }

  close(reason: CloseReason): void {
    const socket = this.#socket;
    if (reason !== 'server') socket.destroy();
    else if (this.#res !== undefined) this.#res.end();
    // Flushes what is written, then closes: the client need not hang up its side.
    else if (!socket.destroyed) socket.end(() => socket.destroy());
  }

  listen(listener: SinkListener): () => void {
    const socket = this.#socket as ListenedSocket;
    if (socket[LISTENER] !== undefined) return listenWithClosures(socket, listener);
    // Shared handlers that find the listener on the socket: no closures per stream.
    socket[LISTENER] = listener;
    socket.on('drain', onSocketDrain);
    socket.on('close', onSocketClose);
    // Socket errors are the server's to handle (it destroys the socket, and 'close' follows).
    return () => {
      if (socket[LISTENER] === listener) socket[LISTENER] = undefined;
      socket.off('drain', onSocketDrain);
      socket.off('close', onSocketClose);
    };
  }
}

const LISTENER = Symbol('ssehub.sinkListener');
type ListenedSocket = Socket & { [LISTENER]?: SinkListener | undefined };

function onSocketDrain(this: ListenedSocket): void {
  this[LISTENER]?.drain();
}

function onSocketClose(this: ListenedSocket): void {
  this[LISTENER]?.close();
}

// A second listener at the same time (the contract allows it; the stream never needs it).
function listenWithClosures(socket: Socket, listener: SinkListener): () => void {
  const onDrain = (): void => listener.drain();
  const onClose = (): void => listener.close();
  socket.on('drain', onDrain);
  socket.on('close', onClose);
  return () => {
    socket.off('drain', onDrain);
    socket.off('close', onClose);
  };
}

function isFramingHeader(name: string): boolean {
  const lower = name.toLowerCase();
  return lower === 'transfer-encoding' || lower === 'content-length';
}

const plainWrite = ServerResponse.prototype.write;
const plainEnd = ServerResponse.prototype.end;

/**
 * The socket sink for `res` when it can be used: a node:http HTTP/1.x response to a GET with a
 * body, on a live socket, whose `write`/`end` nobody wrapped (a middleware that wraps them, such
 * as a compressor or a byte counter, must keep seeing every byte, so it gets the plain path).
 */
export function socketSinkFor(
  req: IncomingMessage | Http2ServerRequest,
  res: unknown,
  status: number,
  detach: boolean,
): EventSink | undefined {
  if (!(res instanceof ServerResponse) || req.httpVersionMajor !== 1 || req.method === 'HEAD') {
    return undefined;
  }
  if (res.write !== plainWrite || res.end !== plainEnd) return undefined;
  if (status < 200 || status === 204 || status === 304) return undefined;
  const socket = res.socket;
  if (socket === null || socket.destroyed) return undefined;
  return new NodeSocketSink(req as IncomingMessage, res, socket, detach);
}
