import { SseHubError } from '../../errors.js';
import type { StoredUpdate, Update } from '../types.js';

// How an update is laid out in a stream entry: fields `i` (id, also read by the Lua scripts),
// `t` (creation time in ms, for the age bound) and `d` (the rest as JSON). Field order matters:
// the scripts read the id and time by index.

/** A stream entry as ioredis returns it: `[entryId, [field, value, …]]`. */
export type RawEntry = [string, string[]];

interface Payload {
  t: string[];
  d: string;
  p: boolean;
  y?: string;
  r?: number;
}

/** The `d` field of an update's entry. */
export function encodePayload(update: Update): string {
  const payload: Payload = { t: update.topics, d: update.data, p: update.private };
  if (update.type !== undefined) payload.y = update.type;
  if (update.retry !== undefined) payload.r = update.retry;
  return JSON.stringify(payload);
}

/** The position an entry id (`<position>-0`) stands for. */
export function entryPosition(entryId: string): number {
  const dash = entryId.indexOf('-');
  return Number(dash === -1 ? entryId : entryId.slice(0, dash));
}

/** Reads one stream entry back into a frozen update with its position. */
export function decodeEntry([entryId, fields]: RawEntry): StoredUpdate {
  if (fields[0] !== 'i' || fields[4] !== 'd') {
    throw new SseHubError('TRANSPORT_UNAVAILABLE', `unexpected stream entry ${entryId}`);
  }
  const payload = JSON.parse(fields[5]!) as Payload;
  const update: Update = {
    id: fields[1]!,
    // Parsed here, shared by nobody else: frozen as it is, not copied.
    topics: Object.freeze(payload.t) as string[],
    data: payload.d,
    private: payload.p,
  };
  if (payload.y !== undefined) update.type = payload.y;
  if (payload.r !== undefined) update.retry = payload.r;
  return { position: entryPosition(entryId), update: Object.freeze(update) };
}
