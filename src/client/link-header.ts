/** One link of an HTTP `Link` header (RFC 8288). */
export interface Link {
  /** The target as written (may be relative). */
  href: string;
  /** Relation types, lower-cased (`rel="mercure self"` gives two). */
  rel: string[];
  /** All parameters, names lower-cased; the first occurrence of a name wins. */
  params: Record<string, string>;
}

const WS = new Set([' ', '\t']);

/**
 * Parses a `Link` header value, including several links joined by commas (which is how fetch
 * combines repeated headers). Commas inside `<…>` and quoted strings are respected; a malformed
 * link is skipped, not fatal.
 */
export function parseLinkHeader(value: string): Link[] {
  const links: Link[] = [];
  const n = value.length;
  let i = 0;
  const skipWs = (): void => {
    while (i < n && WS.has(value[i] as string)) i++;
  };
  const skipToNextLink = (): void => {
    let quoted = false;
    while (i < n) {
      const c = value[i];
      if (c === '\\' && quoted) i++;
      else if (c === '"') quoted = !quoted;
      else if (c === ',' && !quoted) return;
      i++;
    }
  };

  while (i < n) {
    skipWs();
    if (value[i] === ',') {
      i++;
      continue;
    }
    if (i >= n) break;
    if (value[i] !== '<') {
      skipToNextLink();
      continue;
    }
    const close = value.indexOf('>', i + 1);
    if (close === -1) break;
    const href = value.slice(i + 1, close).trim();
    i = close + 1;
    const params: Record<string, string> = {};
    for (;;) {
      skipWs();
      if (value[i] !== ';') break;
      i++;
      skipWs();
      const start = i;
      while (i < n && !'=;,'.includes(value[i] as string) && !WS.has(value[i] as string)) i++;
      const name = value.slice(start, i).toLowerCase();
      skipWs();
      let paramValue = '';
      if (value[i] === '=') {
        i++;
        skipWs();
        if (value[i] === '"') {
          i++;
          while (i < n && value[i] !== '"') {
            if (value[i] === '\\' && i + 1 < n) i++;
            paramValue += value[i];
            i++;
          }
          i++;
        } else {
          const vStart = i;
          while (i < n && !';,'.includes(value[i] as string) && !WS.has(value[i] as string)) i++;
          paramValue = value.slice(vStart, i);
        }
      }
      if (name !== '' && !(name in params)) params[name] = paramValue;
    }
    skipToNextLink();
    const rel = (params.rel ?? '')
      .split(/\s+/)
      .filter((r) => r !== '')
      .map((r) => r.toLowerCase());
    links.push({ href, rel, params });
  }
  return links;
}
