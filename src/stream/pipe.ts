import { Readable } from 'node:stream';
import type { EventFields } from '../protocol/types.js';
import type { EventStream } from './event-stream.js';

export interface PipeEventsOptions {
  /** Close the event stream when the source ends. Default true. */
  end?: boolean;
}

const CLOSED: unique symbol = Symbol('closed');
function ignore(): void {}

/**
 * Sends every event of `source` (an async or sync iterable of event fields, or an object-mode
 * Node Readable of them) into `stream`, waiting for drain when the client is slow. Stops as soon
 * as the stream closes, releasing the source (a Readable is destroyed, an iterator returned).
 * Resolves when the source ends or the stream closes; rejects (and closes the stream) when the
 * source fails or yields an invalid event.
 */
export async function pipeEvents(
  source: AsyncIterable<EventFields> | Iterable<EventFields>,
  stream: EventStream,
  options: PipeEventsOptions = {},
): Promise<void> {
  const iterator: AsyncIterator<EventFields> | Iterator<EventFields> =
    Symbol.asyncIterator in source
      ? source[Symbol.asyncIterator]()
      : (source as Iterable<EventFields>)[Symbol.iterator]();
  let release!: () => void;
  const closed = new Promise<typeof CLOSED>((resolve) => {
    release = () => resolve(CLOSED);
  });
  const stopListening = stream.onClose(() => {
    release();
    // A Readable waiting for data would hold its resources until the next chunk; stop it now.
    if (source instanceof Readable) source.destroy();
  });
  let finished = false;
  try {
    while (!stream.closed) {
      const pending = iterator.next();
      const next = await Promise.race([pending, closed]);
      if (next === CLOSED) {
        // Abandoned: a later rejection of this step must not go unhandled.
        Promise.resolve(pending).then(ignore, ignore);
        break;
      }
      if (next.done) {
        finished = true;
        break;
      }
      if (!stream.send(next.value)) break;
      if (stream.needsDrain) await stream.whenDrained();
    }
  } catch (error) {
    finished = true;
    stream.close();
    throw error;
  } finally {
    // A long-lived stream fed from many sources in turn must not keep each one reachable.
    stopListening();
  }
  if (!finished) {
    try {
      Promise.resolve(iterator.return?.()).then(ignore, ignore);
    } catch {
      // The source's clean-up failed; the stream is closed either way.
    }
  } else if (options.end !== false) {
    stream.close();
  }
}
