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

const PREFIX = 'urn:uuid:';
const HEX_DIGITS = Buffer.from('0123456789abcdef', 'latin1');
const bytes = new Uint8Array(16);
const text = Buffer.alloc(PREFIX.length + 36);
text.write(PREFIX, 0, 'latin1');

/** A new update or subscriber id: an IRI (as Mercure asks), time-ordered (UUIDv7). */
export function generateUpdateId(): string {
  uuidv7({ random: pooledRandom() }, bytes);
  // Written out in one buffer, so the id is one flat string: built by concatenation it would be
  // a tree of some 20 string pieces, which every live subscriber (and stored update) would keep.
  let at = PREFIX.length;
  for (let i = 0; i < 16; i++) {
    if (i === 4 || i === 6 || i === 8 || i === 10) text[at++] = 0x2d;
    const byte = bytes[i] as number;
    text[at++] = HEX_DIGITS[byte >> 4] as number;
    text[at++] = HEX_DIGITS[byte & 15] as number;
  }
  return text.toString('latin1');
}
