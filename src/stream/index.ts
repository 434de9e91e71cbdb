export * from './adapters/index.js';
export { EventStream } from './event-stream.js';
export type { HeartbeatMember } from './heartbeat.js';
export { heartbeats } from './heartbeat.js';
export type { ResolvedStreamOptions } from './options.js';
export {
  CLOSE_DRAIN_TIMEOUT_MS,
  DEFAULT_HEARTBEAT_MS,
  DEFAULT_MAX_QUEUE_BYTES,
  eventStreamHeaders,
  MAX_HEARTBEAT_MS,
  MIN_HEARTBEAT_MS,
  resolveStreamOptions,
} from './options.js';
export type { PipeEventsOptions } from './pipe.js';
export { pipeEvents } from './pipe.js';
export type { EventSink, SinkListener } from './sink.js';
export type {
  CloseReason,
  EventStreamApi,
  EventStreamOptions,
  OverflowPolicy,
} from './types.js';
