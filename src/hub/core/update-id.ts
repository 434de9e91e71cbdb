import { randomFillSync } from 'node:crypto';
import { v7 as uuidv7 } from 'uuid';

// One randomFillSync per 256 ids instead of one per id: on the publish path the system call
// costs more than the rest of id generation.
const POOL_IDS = 256;
const pool = new Uint8Array(16 * POOL_IDS);
let offset = pool.length;

function pooledRandom(): Uint8Array {
  if (offset === pool.length) {
    randomFillSync(pool);
    offset = 0;
  }
  const bytes = pool.subarray(offset, offset + 16);
  offset += 16;
  return bytes;
}

/** A new update or subscriber id: an IRI (as Mercure asks), time-ordered (UUIDv7). */
export function generateUpdateId(): string {
  return `urn:uuid:${uuidv7({ random: pooledRandom() })}`;
}
