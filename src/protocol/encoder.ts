import { SseHubError } from '../errors.js';
import type { EventFields } from './types.js';

// Line breaks a field may not hold: CR, LF, and NUL (an id with NUL is ignored by browsers).
const FORBIDDEN_IN_FIELD = /[\r\n\0]/;
const LINE_BREAK = /\r\n|\r|\n/;

function checkField(name: 'id' | 'event', value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string') {
    throw new SseHubError('INVALID_EVENT', `${name} must be a string`);
  }
  if (FORBIDDEN_IN_FIELD.test(value)) {
    throw new SseHubError('INVALID_EVENT_FIELD', `${name} must not contain CR, LF or NUL`);
  }
  return value;
}

/** Throws INVALID_RETRY unless `ms` is a non-negative safe integer. */
export function checkRetry(ms: unknown): number {
  if (typeof ms !== 'number' || !Number.isSafeInteger(ms) || ms < 0) {
    throw new SseHubError('INVALID_RETRY', `got ${String(ms)}`);
  }
  return ms;
}

/**
 * The text of one event frame, ending in the blank line that dispatches it. Validates like
 * {@link encodeEvent}; use this when the frame is concatenated with others before encoding.
 */
export function formatEvent(fields: EventFields): string {
  if (fields === null || typeof fields !== 'object') {
    throw new SseHubError('INVALID_EVENT', 'expected an object');
  }
  const id = checkField('id', fields.id);
  const event = checkField('event', fields.event);
  let out = '';
  if (id !== undefined) out += `id: ${id}\n`;
  if (event !== undefined) out += `event: ${event}\n`;
  if (fields.retry !== undefined) out += `retry: ${checkRetry(fields.retry)}\n`;
  if (fields.data !== undefined) {
    if (typeof fields.data !== 'string') {
      throw new SseHubError('INVALID_EVENT', 'data must be a string');
    }
    // Fast path: most payloads are one line.
    if (!fields.data.includes('\n') && !fields.data.includes('\r')) {
      out += `data: ${fields.data}\n`;
    } else {
      for (const line of fields.data.split(LINE_BREAK)) out += `data: ${line}\n`;
    }
  }
  return `${out}\n`;
}

/**
 * Encodes one event into the UTF-8 bytes of a complete frame. Encode once and write the same
 * bytes to every stream that should receive the event.
 */
export function encodeEvent(fields: EventFields): Buffer {
  return Buffer.from(formatEvent(fields), 'utf8');
}

/** The text of a comment frame; a multi-line comment becomes several comment lines. */
export function formatComment(text = ''): string {
  if (typeof text !== 'string') throw new SseHubError('INVALID_EVENT', 'comment must be a string');
  if (text === '') return ':\n\n';
  let out = '';
  for (const line of text.split(LINE_BREAK)) out += line === '' ? ':\n' : `: ${line}\n`;
  return `${out}\n`;
}

/** Encodes a comment (ignored by clients; keeps proxies and dead-connection detectors happy). */
export function encodeComment(text = ''): Buffer {
  return Buffer.from(formatComment(text), 'utf8');
}

/** Encodes a lone `retry:` frame telling clients how long to wait before reconnecting. */
export function encodeRetry(ms: number): Buffer {
  return Buffer.from(`retry: ${checkRetry(ms)}\n\n`, 'utf8');
}
