// fetch header values are byte strings (one char per byte). EventSource sends Last-Event-ID as
// UTF-8, so non-ASCII ids are converted both ways here instead of throwing or being mangled.

function isAscii(text: string): boolean {
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) > 0x7f) return false;
  return true;
}

/** The UTF-8 bytes of `text` as a byte string, ready for `Headers.set`. */
export function toHeaderValue(text: string): string {
  if (isAscii(text)) return text;
  let out = '';
  for (const byte of new TextEncoder().encode(text)) out += String.fromCharCode(byte);
  return out;
}

/** Reads a header byte string as UTF-8; one that is not valid UTF-8 is returned unchanged. */
export function fromHeaderValue(value: string): string {
  if (isAscii(value)) return value;
  try {
    const bytes = Uint8Array.from(value, (c) => c.charCodeAt(0) & 0xff);
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return value;
  }
}
