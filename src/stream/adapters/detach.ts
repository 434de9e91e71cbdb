import type { IncomingMessage, ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import type { Socket } from 'node:net';

/**
 * Emitted on a node:http response, with its socket, just before an event stream takes the
 * connection over (`detach: true`): the response emits nothing after it, so code that tracks
 * the request (an access log, a metric) moves to the socket's `close`.
 */
export const DETACH_EVENT = 'ssehub:detach';

type FreeParser = (parser: unknown, req: IncomingMessage, socket: Socket) => void;

// The HTTP server's own listeners on a connection (Node 18–24 name them so): once the stream owns
// the connection they would parse what the client sends as further requests.
const SERVER_LISTENER =
  /^(bound )?(socketOn(Data|End|Close|Drain|Error|Timeout)|onSocket(Resume|Pause))$/;
const SOCKET_EVENTS = ['data', 'end', 'close', 'drain', 'error', 'timeout', 'resume', 'pause'];

let freeParser: FreeParser | null | undefined;

// Node's own clean-up for a connection leaving HTTP (what it runs for an upgrade): returns the
// parser to its pool and drops it from the server's list of connections to time out. Not part of
// the documented API, so everything is checked and a missing piece means "do not detach".
function loadFreeParser(): FreeParser | null {
  try {
    const common = createRequire(import.meta.url)('_http_common') as { freeParser?: unknown };
    return typeof common.freeParser === 'function' ? (common.freeParser as FreeParser) : null;
  } catch {
    return null;
  }
}

function discard(): void {}
function endSocket(this: Socket): void {
  this.destroy();
}
function destroySocket(this: Socket): void {
  this.destroy();
}

/**
 * Takes `socket` over from Node's HTTP server once `res` has sent its head: the server's
 * listeners come off, its parser goes back to the pool, and nothing holds `req` or `res` any
 * more — about 5 KB per connection that a long-lived stream would otherwise keep for nothing.
 * From then on the socket is read only to notice the client leaving (a half-close ends it).
 * Returns false, changing nothing, when this Node does not look as expected.
 */
export function detachConnection(
  req: IncomingMessage,
  res: ServerResponse,
  socket: Socket,
): boolean {
  freeParser ??= loadFreeParser();
  const parser = (socket as { parser?: unknown }).parser;
  if (freeParser === null || parser == null || res.socket !== socket || socket.destroyed) {
    return false;
  }
  res.emit(DETACH_EVENT, socket);
  res.detachSocket(socket);
  for (const event of SOCKET_EVENTS) {
    for (const listener of socket.listeners(event)) {
      if (SERVER_LISTENER.test(listener.name)) {
        socket.removeListener(event, listener as (...args: unknown[]) => void);
      }
    }
  }
  freeParser(parser, req, socket);
  socket.setTimeout(0);
  socket.on('data', discard);
  socket.on('end', endSocket);
  socket.on('error', destroySocket);
  socket.resume();
  return true;
}
