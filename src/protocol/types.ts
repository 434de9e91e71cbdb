/** The fields of one event to send. `data` may contain any line breaks; it is split on send. */
export interface EventFields {
  id?: string;
  event?: string;
  data?: string;
  /** Reconnection time in milliseconds, a non-negative integer. */
  retry?: number;
}

/** One event as the WHATWG event-stream algorithm dispatches it. */
export interface ParsedEvent {
  /** `message` when the stream named no event type. */
  type: string;
  data: string;
  /** The last event id buffer at dispatch time (it persists across events). */
  lastEventId: string;
}
