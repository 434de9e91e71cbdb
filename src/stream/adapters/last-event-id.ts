import type { IncomingHttpHeaders } from 'node:http';

/** The `Last-Event-ID` request header; the first one if it came several times. */
export function lastEventIdFrom(headers: IncomingHttpHeaders): string | undefined {
  const value = headers['last-event-id'];
  return Array.isArray(value) ? value[0] : value;
}
