import { SseHubError } from '../errors.js';

/** Resolves `url` against the page's location in browsers; throws INVALID_OPTION. */
export function resolveUrl(url: string | URL): string {
  const base = (globalThis as { location?: { href?: string } }).location?.href;
  try {
    return new URL(String(url), base).href;
  } catch (err) {
    throw new SseHubError('INVALID_OPTION', `invalid URL ${String(url)}`, { cause: err });
  }
}

/** True for `text/event-stream`, with or without parameters. */
export function isEventStream(contentType: string | null): boolean {
  const essence = (contentType ?? '').split(';')[0]?.trim().toLowerCase();
  return essence === 'text/event-stream';
}

/** The origin of `url`, or '' when it has none that can be read. */
export function originOf(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return '';
  }
}
