import { CliExit } from './io.js';

const DEFAULT_HUB_PATH = '/.well-known/mercure';

/**
 * The hub endpoint from what a user typed: a full hub URL is kept; a bare origin such as
 * `http://localhost:3000` gets the standard `/.well-known/mercure` path.
 */
export function hubEndpoint(text: string | undefined): URL {
  if (text === undefined || text === '') {
    throw new CliExit('no hub URL: pass --hub http://localhost:3000 or set SSEHUB_HUB_URL', 2);
  }
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new CliExit(`--hub must be a URL such as http://localhost:3000 (got "${text}")`, 2);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new CliExit(`--hub must be an http or https URL (got "${text}")`, 2);
  }
  if (url.pathname === '/' || url.pathname === '') url.pathname = DEFAULT_HUB_PATH;
  return url;
}
