import type { ServerResponse } from 'node:http';

/**
 * Responses whose outcome the hub logged itself: an opened stream (`stream opened` / `stream
 * closed`), a publish (`update published`), a refusal by a per-client limit (the rate-limited
 * warning). A request log around the hub (the standalone server's) writes its line for them at
 * `debug`, so `info` shows one line per stream open and close and per publish, and a flood of
 * refusals costs one warning a second rather than a line per request.
 */
const logged = new WeakSet<ServerResponse>();

export function markLoggedByHub(res: ServerResponse): void {
  logged.add(res);
}

export function unmarkLoggedByHub(res: ServerResponse): void {
  logged.delete(res);
}

export function isLoggedByHub(res: ServerResponse): boolean {
  return logged.has(res);
}
