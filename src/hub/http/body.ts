import type { IncomingMessage } from 'node:http';
import { SseHubError } from '../../errors.js';
import { checkWellFormed, parseFormBytes, parseFormText } from './form-decoding.js';

const FORM_TYPE = 'application/x-www-form-urlencoded';

/** True when the request's `Content-Type` is `application/x-www-form-urlencoded` (any params). */
export function isFormContentType(req: IncomingMessage): boolean {
  const type = req.headers['content-type'];
  if (type === undefined) return false;
  const semi = type.indexOf(';');
  return (semi === -1 ? type : type.slice(0, semi)).trim().toLowerCase() === FORM_TYPE;
}

// A framework may have parsed the body already (Express's urlencoded(), Koa's bodyparser); then
// the stream is drained and the fields are on `req.body`. Raw bytes and text are parsed strictly;
// for fields a framework decoded, only a lone surrogate is still detectable (any U+FFFD it put in
// for invalid bytes can no longer be told from a real one).
function alreadyParsed(req: IncomingMessage): URLSearchParams | undefined {
  if (!req.readableEnded) return undefined;
  const body = (req as IncomingMessage & { body?: unknown }).body;
  if (typeof body === 'string') return parseFormText(body);
  if (body === null || typeof body !== 'object' || Buffer.isBuffer(body)) {
    return Buffer.isBuffer(body) ? parseFormBytes(body) : undefined;
  }
  const form = new URLSearchParams();
  for (const [name, value] of Object.entries(body)) {
    const values: unknown[] = Array.isArray(value) ? value : [value];
    for (const v of values) {
      if (typeof v === 'string') form.append(checkWellFormed(name), checkWellFormed(v));
    }
  }
  return form;
}

/**
 * Reads a form-encoded body of at most `maxBytes`. Throws UNSUPPORTED_MEDIA_TYPE for another
 * content type and BODY_TOO_LARGE as soon as the declared or received size passes the limit; it
 * then stops reading (the caller answers with `Connection: close`, so the rest is never read).
 * Throws INVALID_ENCODING when a name or value is not valid UTF-8 (see form-decoding.ts).
 */
export function readFormBody(req: IncomingMessage, maxBytes: number): Promise<URLSearchParams> {
  if (!isFormContentType(req)) return Promise.reject(new SseHubError('UNSUPPORTED_MEDIA_TYPE'));
  const parsed = alreadyParsed(req);
  if (parsed !== undefined) return Promise.resolve(parsed);
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > maxBytes) {
    return Promise.reject(new SseHubError('BODY_TOO_LARGE', `limit is ${maxBytes} bytes`));
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const cleanup = (): void => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('close', onClose);
    };
    const onData = (chunk: Buffer): void => {
      size += chunk.byteLength;
      if (size > maxBytes) {
        cleanup();
        req.pause();
        reject(new SseHubError('BODY_TOO_LARGE', `limit is ${maxBytes} bytes`));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = (): void => {
      cleanup();
      try {
        resolve(parseFormBytes(Buffer.concat(chunks, size)));
      } catch (err) {
        reject(err);
      }
    };
    const onError = (err: Error): void => {
      cleanup();
      reject(err);
    };
    const onClose = (): void => {
      cleanup();
      reject(new Error('the request closed before its body ended'));
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
    req.on('close', onClose);
  });
}
