/**
 * The one table of error codes. Every error ssehub throws or answers with comes from here, so a
 * code means the same thing in a stack trace, a log line and an HTTP response. `docs/errors.md`
 * documents each code; a test keeps the two in step.
 */
export const errorTable = {
  // Wire format (encoder / parser)
  INVALID_EVENT_FIELD: { status: 400, message: 'An event field contains a forbidden character' },
  INVALID_RETRY: { status: 400, message: 'retry must be a non-negative integer' },
  INVALID_EVENT: { status: 400, message: 'An event must be an object with string fields' },
  LINE_TOO_LONG: { status: 413, message: 'A line or event exceeded the configured size limit' },

  // Event streams
  STREAM_CLOSED: { status: 500, message: 'The event stream is already closed' },
  STREAM_HEADERS_SENT: {
    status: 500,
    message: 'Response headers were already sent; an event stream needs a fresh response',
  },
  QUEUE_OVERFLOW: {
    status: 503,
    message: 'The client did not read fast enough; its queue passed the configured bound',
  },
  INVALID_OPTION: { status: 500, message: 'An option has an invalid value' },

  // Hub: requests
  MISSING_TOPIC: { status: 400, message: 'At least one topic is required' },
  INVALID_TOPIC: { status: 400, message: 'A topic or topic selector is invalid' },
  TOO_MANY_TOPICS: { status: 400, message: 'Too many topics in one request' },
  TOO_MANY_UPDATE_TOPICS: { status: 413, message: 'Too many topics in one update' },
  FIELD_TOO_LARGE: { status: 413, message: 'A field of the update is longer than allowed' },
  SELECTOR_TOO_COMPLEX: {
    status: 400,
    message:
      "A topic selector, or a subscription's selectors together, would cost too much to match",
  },
  INVALID_ID: { status: 400, message: 'The update id is invalid' },
  INVALID_TYPE: { status: 400, message: 'The update type is invalid' },
  RESERVED_TOPIC: {
    status: 400,
    message: 'This topic is reserved (the hub path and below, or exactly *)',
  },
  INVALID_LAST_EVENT_ID: { status: 400, message: 'The last event id is invalid' },
  INVALID_ENCODING: { status: 400, message: 'The request contains invalid UTF-8' },
  BODY_TOO_LARGE: { status: 413, message: 'The request body is larger than allowed' },
  UNSUPPORTED_MEDIA_TYPE: {
    status: 415,
    message: 'Content-Type must be application/x-www-form-urlencoded',
  },
  METHOD_NOT_ALLOWED: { status: 405, message: 'Method not allowed' },
  NOT_FOUND: { status: 404, message: 'Not found' },

  // Hub: authorization
  UNAUTHORIZED: { status: 401, message: 'A valid token is required' },
  INVALID_REQUEST: {
    status: 400,
    message: 'The access token is presented in a malformed way (Authorization: Bearer <token>)',
  },
  TOKEN_EXPIRED: { status: 401, message: 'The token has expired' },
  INVALID_TOKEN: { status: 401, message: 'The token is invalid' },
  FORBIDDEN: { status: 403, message: 'The token does not allow this' },
  ORIGIN_NOT_ALLOWED: { status: 403, message: 'This origin is not allowed' },

  // Hub: operation
  SHUTTING_DOWN: { status: 503, message: 'The hub is shutting down' },
  HUB_OVERLOADED: {
    status: 503,
    message: 'The hub is behind with delivering updates; retry shortly',
  },
  TRANSPORT_FAILURE: { status: 503, message: 'The update could not be stored' },
  TRANSPORT_CLOSED: { status: 503, message: 'The transport is closed' },
  TRANSPORT_UNAVAILABLE: {
    status: 503,
    message: 'The shared history store cannot be reached right now',
  },
  TOO_MANY_CONNECTIONS: { status: 503, message: 'Too many connections, retry later' },
  TOO_MANY_STREAMS: {
    status: 429,
    message: 'This client has too many event streams open, retry later',
  },
  RATE_LIMITED: {
    status: 429,
    message: 'This client sent too many requests in a short time, retry later',
  },
  STORE_LOCKED: { status: 503, message: 'The history store is held by another process' },

  // Client
  HTTP_ERROR: { status: 502, message: 'The server answered with an error status' },
  INVALID_CONTENT_TYPE: {
    status: 502,
    message: 'The server did not answer with text/event-stream',
  },
  CONNECTION_LOST: { status: 502, message: 'The connection was lost' },
  HEARTBEAT_TIMEOUT: { status: 504, message: 'No data arrived within the heartbeat timeout' },
  ABORTED: { status: 499, message: 'The operation was aborted' },
  DISCOVERY_FAILED: { status: 502, message: 'No Mercure hub was found in the Link header' },

  // Configuration / CLI
  INVALID_CONFIG: { status: 500, message: 'The configuration is invalid' },
} as const satisfies Record<string, { status: number; message: string }>;

export type ErrorCode = keyof typeof errorTable;

/**
 * The error type of ssehub. `message` is safe to show a client; `detail` is for logs only and may
 * name internals (never a token).
 */
export class SseHubError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly detail: string | undefined;
  /** For a refusal that passes (429, 503): when to try again, in seconds (`Retry-After`). */
  readonly retryAfterS: number | undefined;

  constructor(
    code: ErrorCode,
    detail?: string,
    options?: { cause?: unknown; retryAfterS?: number },
  ) {
    const entry = errorTable[code];
    super(
      detail ? `${entry.message}: ${detail}` : entry.message,
      options !== undefined && 'cause' in options ? { cause: options.cause } : undefined,
    );
    this.name = 'SseHubError';
    this.code = code;
    this.status = entry.status;
    this.detail = detail;
    this.retryAfterS = options?.retryAfterS;
  }
}

/** True when `err` is an SseHubError, optionally with the given code. */
export function isSseHubError(err: unknown, code?: ErrorCode): err is SseHubError {
  return err instanceof SseHubError && (code === undefined || err.code === code);
}
