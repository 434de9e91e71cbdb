// Decodes a JWT in the browser, without verifying it (the hub does that: see check-token), and
// reads what it grants in both shapes the hub accepts.

export interface DecodedToken {
  header: Record<string, unknown>;
  payload: Record<string, unknown>;
  /** `current` (an `authorization_details` claim) or `draft07` (a `mercure` claim). */
  shape: 'current' | 'draft07';
  publish: string[];
  subscribe: string[];
  /** Expiry, ms since the epoch. */
  expiresAt: number | undefined;
}

const MERCURE_DETAIL_TYPE = 'https://mercure.rocks/authorization-detail';

function base64UrlJson(part: string): Record<string, unknown> {
  const b64 = part.replace(/-/g, '+').replace(/_/g, '/');
  const padded = b64 + '='.repeat((4 - (b64.length % 4)) % 4);
  const bytes = Uint8Array.from(atob(padded), (c) => c.charCodeAt(0));
  const value: unknown = JSON.parse(new TextDecoder().decode(bytes));
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new Error('not a JSON object');
  }
  return value as Record<string, unknown>;
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

function selectorText(s: unknown): string | undefined {
  if (typeof s === 'string') return s;
  if (isObject(s) && typeof s.match === 'string') {
    const type = s.match_type ?? s.matchType;
    return typeof type === 'string' && type.toLowerCase() === 'urlpattern'
      ? `${s.match} (urlpattern)`
      : s.match;
  }
  return undefined;
}

/** Decodes `token`; throws an Error saying why it is not a JWT. */
export function decodeToken(token: string): DecodedToken {
  const parts = token.trim().split('.');
  if (parts.length !== 3) throw new Error('a JWT has three dot-separated parts');
  let header: Record<string, unknown>;
  let payload: Record<string, unknown>;
  try {
    header = base64UrlJson(parts[0] ?? '');
    payload = base64UrlJson(parts[1] ?? '');
  } catch (err) {
    throw new Error(`not a JWT: ${(err as Error).message}`);
  }
  const publish: string[] = [];
  const subscribe: string[] = [];
  const details = payload.authorization_details;
  const shape = details !== undefined ? 'current' : 'draft07';
  if (Array.isArray(details)) {
    for (const d of details) {
      if (!isObject(d) || d.type !== MERCURE_DETAIL_TYPE) continue;
      const actions = Array.isArray(d.actions) ? d.actions : [];
      const topics = (Array.isArray(d.topics) ? d.topics : [])
        .map(selectorText)
        .filter((t): t is string => t !== undefined);
      if (actions.includes('publish')) publish.push(...topics);
      if (actions.includes('subscribe')) subscribe.push(...topics);
    }
  } else if (isObject(payload.mercure)) {
    for (const [key, out] of [
      ['publish', publish],
      ['subscribe', subscribe],
    ] as const) {
      const list = payload.mercure[key];
      if (!Array.isArray(list)) continue;
      for (const s of list) {
        const text = selectorText(s);
        if (text !== undefined) out.push(text);
      }
    }
  }
  const exp = typeof payload.exp === 'number' ? payload.exp * 1000 : undefined;
  return { header, payload, shape, publish, subscribe, expiresAt: exp };
}
