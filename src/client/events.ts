import type { SseHubError } from '../errors.js';
import type { HistoryLostInfo, OpenInfo, ReconnectInfo } from './types.js';

/** `open`: the connection is up; carries what the server answered. */
export class OpenEvent extends Event {
  readonly status: number;
  readonly headers: Headers;
  /** The final URL (after redirects). */
  readonly responseUrl: string;
  readonly requestedLastEventId: string;

  constructor(info: OpenInfo) {
    super('open');
    this.status = info.status;
    this.headers = info.headers;
    this.responseUrl = info.url;
    this.requestedLastEventId = info.requestedLastEventId;
  }
}

/**
 * `error`, as EventSource fires it: when the connection is lost (readyState CONNECTING, a
 * reconnect follows) and when it fails for good (readyState CLOSED). `error` says why; it is
 * undefined when the server ended the stream with 204.
 */
export class SseErrorEvent extends Event {
  readonly error: SseHubError | undefined;

  constructor(error: SseHubError | undefined) {
    super('error');
    this.error = error;
  }
}

/** `history-lost`: the hub could not resume from the requested id (see HistoryLostInfo). */
export class HistoryLostEvent extends Event {
  readonly requested: string;
  readonly returned: string;

  constructor(info: HistoryLostInfo) {
    super('history-lost');
    this.requested = info.requested;
    this.returned = info.returned;
  }
}

/** `reconnecting`: fired after `error`, with the delay chosen before the next attempt. */
export class ReconnectingEvent extends Event {
  readonly attempt: number;
  readonly delayMs: number;
  readonly error: SseHubError;

  constructor(info: ReconnectInfo) {
    super('reconnecting');
    this.attempt = info.attempt;
    this.delayMs = info.delayMs;
    this.error = info.error;
  }
}
