import { isUtf8 } from 'node:buffer';
import { SseHubError } from '../../errors.js';

/**
 * Strict `application/x-www-form-urlencoded` parsing (WHATWG URL, section 5.1) for publish bodies
 * and hub query strings. `URLSearchParams` decodes invalid UTF-8 to U+FFFD, so `id=%ED%A0%80`
 * would be stored as "���": here every name and value is percent-decoded to bytes and those bytes
 * must be valid UTF-8 (no overlongs, no encoded surrogates, no truncated sequences), else
 * INVALID_ENCODING (400). A `%` not followed by two hex digits stays literal, as WHATWG says; that
 * is not an encoding error. The result is a plain `URLSearchParams`, so callers keep their shape.
 */

// Parts without `%`, `+` or a non-ASCII character decode to themselves: the common case.
const NEEDS_DECODING = /[%+\u0080-\uffff]/;
// In a `u` regex a well-formed pair is one code point, so this only finds lone surrogates.
const LONE_SURROGATE = /\p{Cs}/u;
const MALFORMED_ESCAPE = /%(?![0-9A-Fa-f]{2})/;
// A character that cannot stand for one byte.
const WIDE = /[\u0100-\uffff]/;
// Only ASCII, and every escape decodes to an ASCII byte: no UTF-8 to check, so URLSearchParams
// decodes it exactly as the strict path would (a typical publish: escaped URLs and JSON).
const BEYOND_ASCII = /[\u0080-\uffff]|%[89A-Fa-f][0-9A-Fa-f]/;

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  const lower = c | 0x20;
  if (lower >= 0x61 && lower <= 0x66) return lower - 0x61 + 10;
  return -1;
}

/**
 * Percent-decodes `part` (each char one byte, as Latin-1 text holds bytes) and decodes the bytes
 * as UTF-8, fatally. `plusIsSpace` is the form rule; URL path segments keep `+`.
 */
export function decodeComponent(part: string, plusIsSpace = true): string {
  if (!NEEDS_DECODING.test(part)) return part;
  if (WIDE.test(part)) {
    // Text rather than bytes (a framework that rewrote the URL): its own UTF-8 bytes, then as usual.
    if (LONE_SURROGATE.test(part)) throw new SseHubError('INVALID_ENCODING');
    part = Buffer.from(part, 'utf8').toString('latin1');
  }
  const bytes = Buffer.allocUnsafe(part.length);
  let n = 0;
  for (let i = 0; i < part.length; i++) {
    const c = part.charCodeAt(i);
    if (c === 0x2b && plusIsSpace) {
      bytes[n++] = 0x20;
    } else if (c === 0x25 && i + 2 < part.length) {
      const high = hexValue(part.charCodeAt(i + 1));
      const low = hexValue(part.charCodeAt(i + 2));
      if (high === -1 || low === -1) {
        bytes[n++] = c;
      } else {
        bytes[n++] = high * 16 + low;
        i += 2;
      }
    } else {
      bytes[n++] = c;
    }
  }
  const decoded = bytes.subarray(0, n);
  // isUtf8 (simdutf) is strict and stateless; toString then keeps a BOM, as WHATWG does.
  if (!isUtf8(decoded)) throw new SseHubError('INVALID_ENCODING');
  return decoded.toString('utf8');
}

/** True when `text` holds a `%` not followed by two hex digits (kept literal by the parser). */
export function hasMalformedEscape(text: string): boolean {
  return MALFORMED_ESCAPE.test(text);
}

/** Parses Latin-1 text in which each character stands for one byte. */
function parseByteString(bytes: string): URLSearchParams {
  // URLSearchParams would also drop a leading `?`, which the form parser does not.
  if (bytes.charCodeAt(0) !== 0x3f && !BEYOND_ASCII.test(bytes)) {
    return new URLSearchParams(bytes);
  }
  const form = new URLSearchParams();
  for (const sequence of bytes.split('&')) {
    if (sequence === '') continue;
    const eq = sequence.indexOf('=');
    const name = eq === -1 ? sequence : sequence.slice(0, eq);
    const value = eq === -1 ? '' : sequence.slice(eq + 1);
    form.append(decodeComponent(name), decodeComponent(value));
  }
  return form;
}

/** Parses a form body as received: raw bytes, so a bare 0xFF byte is an encoding error too. */
export function parseFormBytes(bytes: Uint8Array): URLSearchParams {
  const buffer = Buffer.isBuffer(bytes)
    ? bytes
    : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return parseByteString(buffer.toString('latin1'));
}

/**
 * Parses a form that is already text (a body a framework decoded): its characters are
 * characters, so they are UTF-8 encoded before percent-decoding. A lone surrogate is refused.
 */
export function parseFormText(text: string): URLSearchParams {
  if (text.charCodeAt(0) !== 0x3f && !BEYOND_ASCII.test(text)) return new URLSearchParams(text);
  if (LONE_SURROGATE.test(text)) throw new SseHubError('INVALID_ENCODING');
  return parseFormBytes(Buffer.from(text, 'utf8'));
}

/**
 * Parses the query string of a request target (without the `?`). Node's HTTP/1 parser refuses
 * raw non-ASCII bytes there, and HTTP/2 hands header bytes over as Latin-1, so a character up to
 * U+00FF is a raw byte; a wider one can only come from a string some code built, which is text.
 */
export function parseQuery(query: string): URLSearchParams {
  if (query === '') return new URLSearchParams();
  for (let i = 0; i < query.length; i++) {
    if (query.charCodeAt(i) > 0xff) return parseFormText(query);
  }
  return parseByteString(query);
}

/** Throws INVALID_ENCODING when a string a framework parsed holds a lone surrogate. */
export function checkWellFormed(text: string): string {
  if (LONE_SURROGATE.test(text)) throw new SseHubError('INVALID_ENCODING');
  return text;
}
