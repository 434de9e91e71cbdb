import type { Socket } from 'node:net';
import { errorTable } from '../errors.js';
import { REFUSED_RETRY_AFTER_S } from './limits.js';

const REFUSAL_BODY = `${errorTable.TOO_MANY_CONNECTIONS.message}\n`;
/** The whole answer to a connection over the limit, written before any request is read. */
const REFUSAL = Buffer.from(
  `HTTP/1.1 ${errorTable.TOO_MANY_CONNECTIONS.status} Service Unavailable\r\n` +
    'Content-Type: text/plain; charset=utf-8\r\n' +
    `Retry-After: ${REFUSED_RETRY_AFTER_S}\r\n` +
    'Connection: close\r\n' +
    `Content-Length: ${Buffer.byteLength(REFUSAL_BODY)}\r\n` +
    '\r\n' +
    REFUSAL_BODY,
);

/**
 * How long a refused connection may stay open while the client reads its 503. Closing at once
 * while the client's request is still arriving makes the kernel reset the connection, and a reset
 * can discard the 503 before the client reads it; so we read and discard for a moment first.
 * An absolute deadline, not an idle timeout: a client that keeps sending a byte now and then
 * must not keep the socket (and a lingering slot, and a shutdown) forever.
 */
export const REFUSAL_LINGER_MS = 1_000;

/**
 * Most refused connections lingering at once. Each holds a file descriptor; in a connection flood
 * further ones are dropped without an answer rather than eating into the descriptor reserve.
 */
const MAX_LINGERING_REFUSALS = 64;

/**
 * Answers connections over the limit of a plain HTTP/1.1 server with `503`, `Retry-After` and
 * `Connection: close`, and destroys each at most `lingerMs` later whatever the client does. Over
 * TLS no answer is possible without a handshake, the very work the limit sheds, so those are
 * closed at once (`tls: true`).
 */
export function createRefuser(options: {
  tls: boolean;
  lingerMs?: number;
}): (socket: Socket) => void {
  const lingerMs = options.lingerMs ?? REFUSAL_LINGER_MS;
  let lingering = 0;
  return (socket) => {
    if (options.tls || lingering >= MAX_LINGERING_REFUSALS) {
      socket.destroy();
      return;
    }
    lingering += 1;
    const deadline = setTimeout(() => socket.destroy(), lingerMs);
    deadline.unref();
    socket.once('close', () => {
      clearTimeout(deadline);
      lingering -= 1;
    });
    socket.on('error', () => {});
    socket.once('end', () => socket.destroy());
    socket.resume();
    socket.end(REFUSAL);
  };
}
