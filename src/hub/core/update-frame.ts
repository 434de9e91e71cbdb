import { encodeEvent } from '../../protocol/encoder.js';
import type { Update } from '../../transport/types.js';

/**
 * The SSE frame of one update: `id:`, `event:` (the update type), `retry:`, then one `data:` line
 * per line of data. Encoded once per update; every subscriber that receives the update is written
 * the same Buffer.
 */
export function encodeUpdate(update: Update): Buffer {
  const fields: { id: string; data: string; event?: string; retry?: number } = {
    id: update.id,
    data: update.data,
  };
  if (update.type !== undefined) fields.event = update.type;
  if (update.retry !== undefined) fields.retry = update.retry;
  return encodeEvent(fields);
}
