import type { Transport, Update } from '../transport/types.js';
import type { Subscriber } from './subscriber.js';

/** The reserved last event id that asks for all retained history. */
export const EARLIEST = 'earliest';

export interface History {
  /** Updates to send before going live, oldest first. */
  updates: Update[];
  /**
   * The `Last-Event-ID` / `Mercure-Last-Event-ID` response header: the id of the event before the
   * first one sent, or `earliest` when that is not known (history empty, `earliest` asked for, or
   * the requested id unknown). A value other than the requested id tells the client that events
   * may have been lost.
   */
  lastEventId: string;
}

/**
 * Reads the history `subscriber` asked for with `lastEventId`, filtered by its selectors and by
 * the private-update rule, at most `maxReplay` updates. One more than the limit is read: when the
 * history was trimmed, the dropped update is the predecessor the response header names.
 */
export async function readHistory(
  transport: Transport,
  subscriber: Subscriber,
  lastEventId: string,
  maxReplay: number,
): Promise<History> {
  const result = await transport.replay(lastEventId, {
    filter: (update) => subscriber.accepts(update),
    limit: maxReplay + 1,
  });
  const updates = result.updates;
  if (updates.length > maxReplay) {
    const dropped = updates.splice(0, updates.length - maxReplay);
    return { updates, lastEventId: dropped[dropped.length - 1]!.id };
  }
  const known = lastEventId !== EARLIEST && result.found;
  return { updates, lastEventId: known ? lastEventId : EARLIEST };
}
