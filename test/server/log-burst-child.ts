// Child process of log-stream.test.ts: writes a burst of request-like log lines to its stdout (a
// pipe the parent reads promptly) through a BoundedLogStream, all in one event-loop turn as a
// shutdown does, then settles the stream and exits, as `handleSignals` does.
// Usage: log-burst-child.ts <lines> [maxBufferBytes]
import { BoundedLogStream } from '../../src/server/logging.js';

const lines = Number(process.argv[2]);
const bound = process.argv[3] === undefined ? undefined : Number(process.argv[3]);
const stream = new BoundedLogStream(process.stdout, bound);
for (let i = 0; i < lines; i++) {
  // About 300 bytes, like a `request` line with a topic in its path.
  stream.write(
    `${JSON.stringify({
      level: 30,
      time: Date.now(),
      name: 'ssehub',
      method: 'GET',
      path: `/.well-known/mercure?topic=${encodeURIComponent(`https://example.com/books/${i}`)}&topic=${encodeURIComponent('https://example.com/authors/{id}')}`,
      status: 200,
      durationMs: 1234.5,
      route: 'hub',
      httpVersion: '2.0',
      completed: false,
      seq: i,
      msg: 'request',
    })}\n`,
  );
}
await stream.settle(5_000);
process.stderr.write(`dropped=${stream.dropped}\n`);
process.exit(0);
