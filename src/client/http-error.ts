import { SseHubError } from '../errors.js';

/**
 * HTTP_ERROR with what the server answered. `status` stays the code's own (502, as for every
 * HTTP_ERROR); the server's status is `httpStatus`.
 */
export class SseHubHttpError extends SseHubError {
  readonly httpStatus: number;
  /** The response body as text, cut at `maxErrorBodyBytes`. */
  readonly body: string;
  readonly headers: Headers;

  constructor(httpStatus: number, body: string, headers: Headers) {
    const excerpt = body.length > 200 ? `${body.slice(0, 200)}…` : body;
    super('HTTP_ERROR', excerpt ? `status ${httpStatus}: ${excerpt}` : `status ${httpStatus}`);
    this.name = 'SseHubHttpError';
    this.httpStatus = httpStatus;
    this.body = body;
    this.headers = headers;
  }
}

/** Reads at most `maxBytes` of a body as UTF-8 text, then lets go of the rest. */
export async function readLimitedText(response: Response, maxBytes: number): Promise<string> {
  const body = response.body;
  if (!body) return '';
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let text = '';
  let left = maxBytes;
  try {
    while (left > 0) {
      const { done, value } = await reader.read();
      if (done) break;
      const part = value.byteLength > left ? value.subarray(0, left) : value;
      left -= part.byteLength;
      text += decoder.decode(part, { stream: true });
    }
    text += decoder.decode();
  } catch {
    // A body that breaks off mid-way still tells us what arrived so far.
  } finally {
    reader.cancel().catch(() => {});
  }
  return text;
}
