import { SseHubError } from '../errors.js';
import type { ParsedEvent } from './types.js';

export interface ParserCallbacks {
  /** A dispatched event (never one with an empty data buffer). */
  onEvent(event: ParsedEvent): void;
  /** A valid `retry:` field, in ms. */
  onRetry?(ms: number): void;
  /** A comment line, without its leading colon. */
  onComment?(text: string): void;
}

export interface ParserOptions {
  /**
   * Longest line, and longest data of one event, in characters (UTF-16 code units). Past it,
   * `feed` throws LINE_TOO_LONG. Default 4 Mi characters: room for large JSON documents, but a
   * server that never ends a line cannot exhaust memory.
   */
  maxEventSize?: number;
  /** The last event id to start from (e.g. the one a reconnecting client already had). */
  lastEventId?: string;
}

export const DEFAULT_MAX_EVENT_SIZE = 4 * 1024 * 1024;

const LF = 10;
const CR = 13;
const BOM = 0xfeff;

/**
 * A streaming parser for `text/event-stream`, following the WHATWG HTML "interpreting an event
 * stream" algorithm exactly. Pure: bytes or text in, callbacks out, no I/O.
 */
export class EventStreamParser {
  readonly #callbacks: ParserCallbacks;
  readonly #maxEventSize: number;
  // The decoder strips one leading BOM from a byte stream by itself (ignoreBOM: false).
  #decoder = new TextDecoder('utf-8');
  #pending = '';
  #skipLeadingLF = false;
  #sawText = false;
  #data = '';
  #eventType = '';
  #lastEventIdBuffer: string;
  #lastEventId: string;

  constructor(callbacks: ParserCallbacks, options: ParserOptions = {}) {
    const max = options.maxEventSize ?? DEFAULT_MAX_EVENT_SIZE;
    if (!Number.isSafeInteger(max) || max <= 0) {
      throw new SseHubError('INVALID_OPTION', 'maxEventSize must be a positive integer');
    }
    this.#callbacks = callbacks;
    this.#maxEventSize = max;
    this.#lastEventIdBuffer = options.lastEventId ?? '';
    this.#lastEventId = this.#lastEventIdBuffer;
  }

  /**
   * The event source's last event ID string: set when an event is dispatched (even one with no
   * data), and persisting across events until the server sets another.
   */
  get lastEventId(): string {
    return this.#lastEventId;
  }

  /** Feeds the next chunk: bytes (UTF-8, may split characters anywhere) or already-decoded text. */
  feed(chunk: Uint8Array | string): void {
    let text: string;
    if (typeof chunk === 'string') {
      text = chunk;
      // Text input has not been through the decoder, so strip the stream's one BOM here.
      if (!this.#sawText && text.charCodeAt(0) === BOM) text = text.slice(1);
    } else {
      text = this.#decoder.decode(chunk, { stream: true });
    }
    if (text.length === 0) return;
    this.#sawText = true;
    this.#scan(text);
  }

  /**
   * Ends the stream. Per the spec, an event not yet terminated by a blank line is discarded, and
   * so is an unterminated last line. The parser is then ready for a new connection, keeping
   * `lastEventId`.
   */
  end(): void {
    this.#decoder.decode();
    this.#decoder = new TextDecoder('utf-8');
    this.#pending = '';
    this.#skipLeadingLF = false;
    this.#sawText = false;
    this.#data = '';
    this.#eventType = '';
    this.#lastEventIdBuffer = this.#lastEventId;
  }

  #scan(text: string): void {
    let pos = 0;
    const len = text.length;
    if (this.#skipLeadingLF) {
      // The previous chunk ended in CR; a LF here completes that CRLF, not a new line.
      if (text.charCodeAt(0) === LF) pos = 1;
      this.#skipLeadingLF = false;
    }
    // Positions of the next CR and LF, refreshed only when passed, so the scan stays linear.
    let nextCR = text.indexOf('\r', pos);
    let nextLF = text.indexOf('\n', pos);
    while (pos < len) {
      if (nextCR !== -1 && nextCR < pos) nextCR = text.indexOf('\r', pos);
      if (nextLF !== -1 && nextLF < pos) nextLF = text.indexOf('\n', pos);
      let end: number;
      if (nextCR === -1) end = nextLF;
      else if (nextLF === -1) end = nextCR;
      else end = Math.min(nextCR, nextLF);
      if (end === -1) break;

      let line = text.slice(pos, end);
      if (this.#pending.length > 0) {
        line = this.#pending + line;
        this.#pending = '';
      }
      if (line.length > this.#maxEventSize) this.#tooLong('line');

      if (text.charCodeAt(end) === CR) {
        if (end + 1 < len) {
          pos = text.charCodeAt(end + 1) === LF ? end + 2 : end + 1;
        } else {
          pos = end + 1;
          this.#skipLeadingLF = true;
        }
      } else {
        pos = end + 1;
      }
      this.#line(line);
    }
    if (pos < len) {
      this.#pending += text.slice(pos);
      if (this.#pending.length > this.#maxEventSize) this.#tooLong('line');
    }
  }

  #line(line: string): void {
    if (line.length === 0) {
      this.#dispatch();
      return;
    }
    const colon = line.indexOf(':');
    if (colon === 0) {
      this.#callbacks.onComment?.(line.slice(1));
      return;
    }
    let field: string;
    let value: string;
    if (colon === -1) {
      field = line;
      value = '';
    } else {
      field = line.slice(0, colon);
      const start = line.charCodeAt(colon + 1) === 0x20 ? colon + 2 : colon + 1;
      value = line.slice(start);
    }
    switch (field) {
      case 'event':
        this.#eventType = value;
        break;
      case 'data':
        this.#data += `${value}\n`;
        if (this.#data.length > this.#maxEventSize) this.#tooLong('event');
        break;
      case 'id':
        if (!value.includes('\0')) this.#lastEventIdBuffer = value;
        break;
      case 'retry':
        if (/^[0-9]+$/.test(value)) this.#callbacks.onRetry?.(Number.parseInt(value, 10));
        break;
      default:
      // Unknown fields are ignored, as the spec says.
    }
  }

  #dispatch(): void {
    this.#lastEventId = this.#lastEventIdBuffer;
    if (this.#data === '') {
      this.#eventType = '';
      return;
    }
    const data = this.#data.endsWith('\n') ? this.#data.slice(0, -1) : this.#data;
    const type = this.#eventType === '' ? 'message' : this.#eventType;
    this.#data = '';
    this.#eventType = '';
    this.#callbacks.onEvent({ type, data, lastEventId: this.#lastEventId });
  }

  #tooLong(what: 'line' | 'event'): never {
    const limit = this.#maxEventSize;
    this.#pending = '';
    this.#data = '';
    throw new SseHubError('LINE_TOO_LONG', `${what} longer than ${limit} characters`);
  }
}

/** Parses a complete stream body in one go; handy for tests and tools. */
export function parseEventStream(
  body: Uint8Array | string,
  options?: ParserOptions,
): ParsedEvent[] {
  const events: ParsedEvent[] = [];
  const parser = new EventStreamParser({ onEvent: (e) => events.push(e) }, options);
  parser.feed(body);
  parser.end();
  return events;
}
