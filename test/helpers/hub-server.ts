// Starts a hub behind a real node:http server on 127.0.0.1 port 0, plus small clients for it:
// form publishes over HTTP, Mercure-style HS256 tokens, and a pino logger that keeps its lines.
import { createServer, type Server } from 'node:http';
import { Writable } from 'node:stream';
import { SignJWT } from 'jose';
import { type Logger, pino } from 'pino';
import { createHub } from '../../src/hub/create-hub.js';
import type { HubOptions } from '../../src/hub/options.js';
import type { Hub } from '../../src/hub/types.js';
import { listen } from './sse-client.js';

/** The HMAC secret the hub test servers verify tokens with (at least 256 bits for HS256). */
export const TEST_SECRET = 'ssehub-test-secret-that-is-long-enough-for-hs256!';

export interface RunningHub {
  hub: Hub;
  server: Server;
  /** `http://127.0.0.1:<port>` */
  origin: string;
  /** The hub URL: origin + `/.well-known/mercure`. */
  url: string;
  close(): Promise<void>;
}

/** A logger that prints nothing (tests that do not look at logs). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}

/** A logger whose JSON lines are kept in `lines`, for asserting on what the hub logs. */
export function capturingLogger(): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      for (const line of chunk.toString('utf8').split('\n')) if (line !== '') lines.push(line);
      callback();
    },
  });
  return { logger: pino({ level: 'debug' }, sink), lines };
}

/** Starts `createHub(options)` on a node:http server (silent logs and HS256 keys by default). */
export async function startHub(options: HubOptions = {}): Promise<RunningHub> {
  const hub = createHub({ logger: silentLogger(), jwt: { key: TEST_SECRET }, ...options });
  const server = createServer((req, res) => hub.handler(req, res));
  const origin = await listen(server);
  return {
    hub,
    server,
    origin,
    url: `${origin}/.well-known/mercure`,
    async close() {
      await hub.shutdown();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export interface TokenClaims {
  publish?: string[];
  subscribe?: string[];
  payload?: unknown;
  /** Seconds from now until `exp`; negative for an expired token. Default one hour. */
  expiresIn?: number;
  /** Signing secret; default {@link TEST_SECRET}. */
  secret?: string;
}

/** A draft 07 Mercure token: `{ mercure: { publish, subscribe, payload } }`, HS256. */
export async function mintTestToken(claims: TokenClaims = {}): Promise<string> {
  const mercure: Record<string, unknown> = {};
  if (claims.publish) mercure.publish = claims.publish;
  if (claims.subscribe) mercure.subscribe = claims.subscribe;
  if (claims.payload !== undefined) mercure.payload = claims.payload;
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ mercure })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setIssuedAt(now)
    .setExpirationTime(now + (claims.expiresIn ?? 3600))
    .sign(new TextEncoder().encode(claims.secret ?? TEST_SECRET));
}

export interface HttpResult {
  status: number;
  headers: Headers;
  body: string;
}

/** POSTs a form (repeat a field by giving an array) to `url`. */
export async function postForm(
  url: string,
  fields: Record<string, string | string[]>,
  headers: Record<string, string> = {},
): Promise<HttpResult> {
  const form = new URLSearchParams();
  for (const [name, value] of Object.entries(fields)) {
    for (const v of Array.isArray(value) ? value : [value]) form.append(name, v);
  }
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: form.toString(),
  });
  return { status: res.status, headers: res.headers, body: await res.text() };
}

/** GETs `url` and reads the whole body (for non-stream answers). */
export async function getText(
  url: string,
  headers: Record<string, string> = {},
): Promise<HttpResult> {
  const res = await fetch(url, { headers });
  return { status: res.status, headers: res.headers, body: await res.text() };
}

/** A subscribe URL for `hubUrl` with `topic=` for each topic (and any extra query params). */
export function subscribeUrl(
  hubUrl: string,
  topics: string[],
  extra: Record<string, string> = {},
): string {
  const url = new URL(hubUrl);
  for (const topic of topics) url.searchParams.append('topic', topic);
  for (const [name, value] of Object.entries(extra)) url.searchParams.append(name, value);
  return url.toString();
}

/** Publishes with a publisher token for `*`; resolves with the id, throws on a non-200. */
export async function publishOk(
  hubUrl: string,
  fields: Record<string, string | string[]>,
  token?: string,
): Promise<string> {
  const auth = token ?? (await mintTestToken({ publish: ['*'] }));
  const res = await postForm(hubUrl, fields, { authorization: `Bearer ${auth}` });
  if (res.status !== 200) throw new Error(`publish failed: ${res.status} ${res.body}`);
  return res.body;
}
