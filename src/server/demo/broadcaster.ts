import { encodeEvent } from '../../protocol/encoder.js';
import type { EventFields } from '../../protocol/types.js';
import type { EventStreamApi } from '../../stream/types.js';

/**
 * A set of open event streams that all get the same events: each event is encoded once and the
 * same bytes are written to every stream. Streams leave the set when they close.
 */
export class Broadcaster {
  readonly #streams = new Set<EventStreamApi>();
  readonly #onCountChange: (count: number) => void;

  /** `onCountChange` runs after a stream joins or leaves (e.g. to start or stop a producer). */
  constructor(onCountChange: (count: number) => void = () => {}) {
    this.#onCountChange = onCountChange;
  }

  get size(): number {
    return this.#streams.size;
  }

  add(stream: EventStreamApi): void {
    if (stream.closed || this.#streams.has(stream)) return;
    this.#streams.add(stream);
    stream.onClose(() => {
      if (this.#streams.delete(stream)) this.#onCountChange(this.#streams.size);
    });
    this.#onCountChange(this.#streams.size);
  }

  /** Encodes `fields` once and writes the frame to every stream; returns the frame. */
  publish(fields: EventFields): Buffer {
    const frame = encodeEvent(fields);
    for (const stream of this.#streams) stream.write(frame);
    return frame;
  }

  /** Closes every stream. */
  closeAll(): void {
    for (const stream of [...this.#streams]) stream.close();
  }
}
