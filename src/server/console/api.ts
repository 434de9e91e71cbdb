import type { IncomingMessage, ServerResponse } from 'node:http';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { errorTable, isSseHubError, SseHubError } from '../../errors.js';
import type { Hub, TokenRole } from '../../hub/types.js';
import { sendJson } from './headers.js';
import type { StatsSampler } from './sampler.js';

/** Largest `check-token` body: a token (16 KiB at most) and a topic, in JSON. */
export const MAX_CHECK_BODY_BYTES = 32 * 1024;
/** `check-token` requests allowed per second, for the whole console (a token bucket). */
export const CHECK_RATE_PER_S = 10;

type ConsoleHub = Pick<Hub, 'checkToken' | 'subscriptionsTopic' | 'subscriptionsEnabled'>;

/** Why a token is refused, as the console shows it. */
export interface Refusal {
  status: number;
  code: string;
  message: string;
}

function refusal(err: unknown): Refusal {
  const e = isSseHubError(err) ? err : new SseHubError('INVALID_TOKEN');
  return { status: e.status, code: e.code, message: e.message };
}

function bearer(req: IncomingMessage): string | undefined {
  const header = req.headers.authorization;
  if (header === undefined) return undefined;
  const m = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header);
  return m?.[1];
}

/**
 * Console access: a request whose `Authorization: Bearer` token verifies as a *subscriber* token
 * of this hub and whose subscribe grants match `{hub path}/subscriptions` — exactly what
 * `GET {hub path}/subscriptions` (the active-subscriptions API) requires. Resolves with undefined
 * when allowed, else with the 401/403 to answer.
 */
export async function consoleAccess(
  hub: ConsoleHub,
  req: IncomingMessage,
): Promise<Refusal | undefined> {
  const token = bearer(req);
  if (token === undefined) {
    return {
      status: 401,
      code: 'UNAUTHORIZED',
      message: 'the console needs a token: Authorization: Bearer <JWT>',
    };
  }
  try {
    const { matches } = await hub.checkToken(token, 'subscriber', hub.subscriptionsTopic);
    if (matches) return undefined;
    return {
      status: 403,
      code: 'FORBIDDEN',
      message: `the token may not subscribe to ${hub.subscriptionsTopic} (console access needs a subscribe grant matching it)`,
    };
  } catch (err) {
    return refusal(err);
  }
}

/** Reads a body of at most `max` bytes; past it rejects with BODY_TOO_LARGE. */
function readBody(req: IncomingMessage, max: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      if (size > max) return; // refused already: the rest is read and dropped
      size += chunk.length;
      if (size > max) {
        chunks.length = 0;
        reject(new SseHubError('BODY_TOO_LARGE', `at most ${max} bytes`));
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** A token bucket: `rate` per second, bursts of `rate`. */
class RateLimit {
  #tokens: number;
  #at = Date.now();
  constructor(readonly rate: number) {
    this.#tokens = rate;
  }
  take(now = Date.now()): boolean {
    this.#tokens = Math.min(this.rate, this.#tokens + ((now - this.#at) / 1000) * this.rate);
    this.#at = now;
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }
}

/** What `check-token` says about one role. */
export type RoleVerdict =
  | { ok: true; matches?: boolean; publish?: string[]; subscribe?: string[]; exp?: number }
  | ({ ok: false } & Refusal);

async function verdict(
  hub: ConsoleHub,
  token: string,
  role: TokenRole,
  topic: string | undefined,
): Promise<RoleVerdict> {
  try {
    const { claims, matches } = await hub.checkToken(token, role, topic);
    return {
      ok: true,
      ...(topic !== undefined ? { matches } : {}),
      ...(claims.publish ? { publish: claims.publish } : {}),
      ...(claims.subscribe ? { subscribe: claims.subscribe } : {}),
      ...(claims.exp !== undefined ? { exp: claims.exp } : {}),
    };
  } catch (err) {
    return { ok: false, ...refusal(err) };
  }
}

export interface ConsoleApi {
  stats(req: IncomingMessage, res: ServerResponse): Promise<void>;
  checkToken(req: IncomingMessage, res: ServerResponse): Promise<void>;
}

export function createConsoleApi(
  hub: ConsoleHub,
  sampler: StatsSampler,
  hubPath: string,
): ConsoleApi {
  const limit = new RateLimit(CHECK_RATE_PER_S);

  async function guard(
    req: IncomingMessage,
    res: ServerResponse,
    method: 'GET' | 'POST',
  ): Promise<boolean> {
    if (req.method !== method && !(method === 'GET' && req.method === 'HEAD')) {
      res.setHeader('allow', method === 'GET' ? 'GET, HEAD' : 'POST');
      sendJson(res, 405, {
        status: 405,
        code: 'METHOD_NOT_ALLOWED',
        message: 'Method not allowed',
      });
      return false;
    }
    const refused = await consoleAccess(hub, req);
    if (refused === undefined) return true;
    if (refused.status === 401) res.setHeader('www-authenticate', 'Bearer realm="ssehub-console"');
    sendJson(res, refused.status, refused);
    return false;
  }

  return {
    /** `GET /ui/api/stats[?since=<ms>]`: samples newer than `since` (all kept, without it). */
    async stats(req, res) {
      if (!(await guard(req, res, 'GET'))) return;
      const since = Number(new URL(req.url ?? '/', 'http://x').searchParams.get('since') ?? 0);
      const samples = sampler.samples().filter((s) => !(s.t <= since));
      sendJson(res, 200, {
        hubPath,
        subscriptions: hub.subscriptionsEnabled,
        subscriptionsTopic: hub.subscriptionsTopic,
        totals: sampler.totals(),
        samples,
      });
    },

    /**
     * `POST /ui/api/check-token` with `{"token": "<JWT>", "topic"?: "<topic>"}`: runs the hub's
     * own authorizer on the token for both roles and answers what each would get: the grants,
     * or the status, code and message of the refusal. Bounded body, rate-limited.
     */
    async checkToken(req, res) {
      if (!(await guard(req, res, 'POST'))) return;
      if (!limit.take()) {
        res.setHeader('retry-after', '1');
        sendJson(res, 429, { status: 429, code: 'RATE_LIMITED', message: 'Too many token checks' });
        return;
      }
      let input: { token?: unknown; topic?: unknown };
      try {
        input = JSON.parse(await readBody(req, MAX_CHECK_BODY_BYTES));
      } catch (err) {
        const e = isSseHubError(err) ? err : new SseHubError('INVALID_REQUEST', 'not JSON');
        // The client may still be sending: do not keep the connection for another request.
        if (e.code === 'BODY_TOO_LARGE') res.setHeader('connection', 'close');
        sendJson(res, e.status, { status: e.status, code: e.code, message: e.message });
        return;
      }
      const token = typeof input?.token === 'string' ? input.token.trim() : '';
      const topic =
        typeof input?.topic === 'string' && input.topic !== '' ? input.topic : undefined;
      if (token === '') {
        sendJson(res, 400, {
          status: 400,
          code: 'INVALID_REQUEST',
          message: errorTable.INVALID_REQUEST.message,
        });
        return;
      }
      let header: unknown;
      let payload: unknown;
      try {
        header = decodeProtectedHeader(token);
        payload = decodeJwt(token);
      } catch {
        header = undefined;
      }
      sendJson(res, 200, {
        decoded: header !== undefined,
        ...(header !== undefined ? { header, payload } : {}),
        publisher: await verdict(hub, token, 'publisher', topic),
        subscriber: await verdict(hub, token, 'subscriber', topic),
        console: await hub.checkToken(token, 'subscriber', hub.subscriptionsTopic).then(
          (c) => c.matches,
          () => false,
        ),
      });
    },
  };
}
