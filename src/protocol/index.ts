export {
  checkRetry,
  encodeComment,
  encodeEvent,
  encodeRetry,
  formatComment,
  formatEvent,
} from './encoder.js';
export type { ParserCallbacks, ParserOptions } from './parser.js';
export { DEFAULT_MAX_EVENT_SIZE, EventStreamParser, parseEventStream } from './parser.js';
export type { EventFields, ParsedEvent } from './types.js';
