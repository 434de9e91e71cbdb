// A raw TCP (or TLS) client for tests that must misbehave below HTTP: send half a header, trickle
// a body, hold a connection open. Collects what the server sends and lets a test wait for it
// (or for the close) without sleeping.
import net from 'node:net';
import tls from 'node:tls';
import { DEFAULT_WAIT_MS, Waiters } from '../helpers/waiters.js';

export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

export class RawConnection {
  readonly socket: net.Socket;
  /** Everything received, as latin1 text (HTTP/1.1 heads are ASCII). */
  received = '';
  /** The server ended its side (FIN); with `allowHalfOpen` ours may still be open. */
  ended = false;
  closed = false;
  /** Offset in `received` where the next unread response starts. */
  #readOffset = 0;
  readonly #waiters = new Waiters(
    () => `; received ${JSON.stringify(this.received.slice(0, 300))}, closed=${this.closed}`,
  );

  private constructor(socket: net.Socket) {
    this.socket = socket;
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => {
      this.received += chunk;
      this.#waiters.notify();
    });
    // A reset is a way of being closed too; tests assert on what arrived before it.
    socket.on('error', () => {});
    socket.on('end', () => {
      this.ended = true;
      this.#waiters.notify();
    });
    socket.on('close', () => {
      this.closed = true;
      this.#waiters.notify();
    });
  }

  /**
   * Connects and resolves once connected (over TLS: once the handshake is done, or, with
   * `waitForHandshake: false`, once TCP is up). `allowHalfOpen` keeps our side open when the
   * server ends its side: a client that never hangs up.
   */
  static open(
    port: number,
    options: { tls?: tls.ConnectionOptions; allowHalfOpen?: boolean } = {},
  ): Promise<RawConnection> {
    return new Promise((resolve, reject) => {
      const socket = options.tls
        ? tls.connect({ port, host: '127.0.0.1', ...options.tls })
        : net.connect({ port, host: '127.0.0.1', allowHalfOpen: options.allowHalfOpen ?? false });
      const conn = new RawConnection(socket);
      socket.once(options.tls ? 'secureConnect' : 'connect', () => {
        socket.off('error', reject);
        resolve(conn);
      });
      socket.once('error', reject);
    });
  }

  write(text: string): void {
    this.socket.write(text, 'latin1');
  }

  waitFor(check: () => boolean, label: string, timeoutMs = DEFAULT_WAIT_MS): Promise<void> {
    return this.#waiters.waitFor(check, label, timeoutMs);
  }

  /** Waits until the server ended or reset the connection. */
  waitForClose(timeoutMs = DEFAULT_WAIT_MS): Promise<void> {
    return this.waitFor(
      () => this.ended || this.closed,
      'the server to close the connection',
      timeoutMs,
    );
  }

  /** Waits for the next complete response (headers and a Content-Length body) and returns it. */
  async nextResponse(timeoutMs = DEFAULT_WAIT_MS): Promise<RawResponse> {
    let parsed: (RawResponse & { end: number }) | undefined;
    await this.waitFor(
      () => {
        parsed = parseResponse(this.received, this.#readOffset);
        return parsed !== undefined || this.ended || this.closed;
      },
      'a complete response',
      timeoutMs,
    );
    if (!parsed) throw new Error(`closed before a complete response: ${this.received}`);
    this.#readOffset = parsed.end;
    return { status: parsed.status, headers: parsed.headers, body: parsed.body };
  }

  /** Sends a GET with keep-alive and returns its response. */
  async get(path: string): Promise<RawResponse> {
    this.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`);
    return this.nextResponse();
  }

  destroy(): void {
    this.socket.destroy();
  }
}

function parseResponse(text: string, from: number): (RawResponse & { end: number }) | undefined {
  const headEnd = text.indexOf('\r\n\r\n', from);
  if (headEnd === -1) return undefined;
  const [statusLine = '', ...lines] = text.slice(from, headEnd).split('\r\n');
  const status = Number(statusLine.split(' ')[1]);
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  const length = Number(headers['content-length'] ?? 0);
  const bodyStart = headEnd + 4;
  if (text.length < bodyStart + length) return undefined;
  return {
    status,
    headers,
    body: text.slice(bodyStart, bodyStart + length),
    end: bodyStart + length,
  };
}
