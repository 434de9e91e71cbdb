import { BlockList, isIP } from 'node:net';
import { type Logger, pino } from 'pino';
import { SseHubError } from '../errors.js';
import {
  MAX_HEARTBEAT_MS,
  MIN_HEARTBEAT_MS,
  DEFAULT_MAX_QUEUE_BYTES as STREAM_MAX_QUEUE_BYTES,
} from '../stream/options.js';
import { createMemoryTransport } from '../transport/memory.js';
import type { Transport } from '../transport/types.js';
import type { Authorizer } from './auth/index.js';
import {
  type AuthorizerOptions,
  createAuthorizer,
  type KeySource,
  type RoleKeys,
  type TrustedIssuer,
} from './auth/index.js';
import {
  DEFAULT_MAX_SELECTOR_SET_COST,
  DEFAULT_MAX_SELECTOR_COST as TOPIC_SELECTOR_MAX_COST,
} from './selectors/index.js';

/** Keys for verifying tokens of one role. */
export interface JwtKeyOptions {
  /** HMAC secret, or a PEM public key / certificate (RSA, EC, Ed25519). */
  key?: string;
  /** JWKS URL; keys are fetched and cached. */
  jwksUrl?: string;
  /** Allowed algorithms; default derived from the key type. `none` is never allowed. */
  algorithms?: string[];
}

/**
 * A trusted issuer of current-spec (`authorization_details`) tokens and the keys bound to it. The
 * spec wants each key tied to one issuer, and a token's signature checked with its `iss`'s keys
 * only. Without keys of its own, the issuer is bound to the hub's `jwt` / `publisherJwt` /
 * `subscriberJwt` (one issuer at most may be).
 */
export interface JwtIssuerOptions {
  /** The issuer identifier, compared exactly with `iss` (e.g. `https://idp.example.com`). */
  issuer: string;
  /** Keys for both roles of this issuer's tokens, unless overridden per role below. */
  jwt?: JwtKeyOptions;
  publisherJwt?: JwtKeyOptions;
  subscriberJwt?: JwtKeyOptions;
}

/**
 * Everything a hub can be told. The CLI and environment variables only map onto this object;
 * defaults and validation live in one place (`resolveHubOptions`).
 */
export interface HubOptions {
  /** History and fan-out. Default: an in-memory transport. */
  transport?: Transport;
  /**
   * Verifies tokens; built from `jwt` / `publisherJwt` / `subscriberJwt` when absent. With neither,
   * every token is refused: only `hub.publish()` can publish, and only anonymous subscribers (when
   * allowed) can subscribe.
   */
  authorizer?: Authorizer;
  /**
   * Keys for both roles, unless overridden per role below. They verify draft-07 (`mercure` claim)
   * tokens, and the current-spec tokens of the trusted issuer bound to them (`jwtIssuers`).
   */
  jwt?: JwtKeyOptions;
  publisherJwt?: JwtKeyOptions;
  subscriberJwt?: JwtKeyOptions;
  /**
   * Trusted issuers of current-spec tokens, each bound to its keys; such a token's `iss` must be
   * one of them. Default: one issuer, the origin of `publicUrl` (`https://localhost`), bound to
   * the keys above — what a self-issuing application on the hub's site uses.
   */
  jwtIssuers?: JwtIssuerOptions[];
  /**
   * The hub's resource identifier: current-spec tokens must carry it in `aud`, and the protected
   * resource metadata names it as `resource`. Default: `publicUrl`.
   */
  jwtAudience?: string;
  /**
   * Authorization servers advertised in the protected resource metadata (`authorization_servers`);
   * each must be one of `jwtIssuers`. Metadata only. Default none (tokens are self-issued).
   */
  authorizationServers?: string[];
  /** Allow subscribers without a token (they receive public updates only). Default false. */
  anonymous?: boolean;
  /**
   * Accept the token from the `authorization` query parameter (draft 07; RFC 6750's
   * `access_token` is never read, as the current spec says). Discouraged: URLs end up in logs
   * and browser history. Default false.
   */
  allowQueryToken?: boolean;
  /**
   * The name of the cookie holding a browser subscriber's token, advertised as `mercure_cookie` in
   * the protected resource metadata. Default DEFAULT_COOKIE_NAME (`__Secure-mercure_access_token`,
   * the current spec's), under which the hub also reads draft 07's `mercureAuthorization` and
   * `mercureAccessToken`; another name is read together with `mercureAuthorization` only (draft-07
   * clients keep working; e.g. several hubs on one domain, or a name without the `__Secure-`
   * prefix, which browsers only accept over HTTPS, for plain-HTTP development).
   */
  cookieName?: string;
  /** Origins allowed by CORS (with credentials). `*` allows any origin without credentials. */
  corsOrigins?: string[];
  /**
   * Origins allowed to publish with cookie authentication, listed by name (`*` is refused).
   * Default: `corsOrigins` without `*`.
   */
  publishOrigins?: string[];
  /** Base path of the hub. Default `/.well-known/mercure`. */
  path?: string;
  /**
   * The hub's public URL, e.g. `https://example.com/.well-known/mercure`: the base against which
   * relative URL patterns and topics are resolved (draft 08). Default `https://localhost` + `path`,
   * under which relative patterns still match relative topics.
   */
  publicUrl?: string;
  /** Publish and serve active subscription events and the subscriptions API. Default false. */
  subscriptions?: boolean;
  /** Heartbeat comment interval in ms (0 = off). Default 15 000 (see EventStreamOptions). */
  heartbeatMs?: number;
  /**
   * Maximum lifetime of one subscriber stream in ms (0 = unlimited); each stream gets up to
   * `lifetimeJitter` (fraction) less so that reconnects after a deploy spread out. Defaults
   * DEFAULT_MAX_STREAM_LIFETIME_MS (1 h) and DEFAULT_LIFETIME_JITTER (0.1). A stream also ends
   * at its token's `exp`.
   */
  maxStreamLifetimeMs?: number;
  lifetimeJitter?: number;
  /** Bytes that may wait for one slow subscriber before it is cut off. Default 256 KiB. */
  maxQueueBytes?: number;
  /**
   * On node:http HTTP/1.x, each stream takes its connection over from the HTTP server once its
   * head is out (the stream option `detach`): the request, response and parser objects, about
   * 5 KB per subscriber, are freed. Then the response emits no `close`/`finish` (middleware that
   * tracks requests must watch the socket, as `on-finished` behind Express's loggers does, or
   * `DETACH_EVENT`), and `server.closeAllConnections()` no longer sees the stream: end streams
   * with `hub.shutdown()`. Default false; `ssehub serve` (createServer) turns it on.
   */
  detachStreams?: boolean;
  /** Largest accepted publish body, in bytes. Default 1 MiB. */
  maxBodyBytes?: number;
  /** Most topic selectors in one subscription / topics in one update. Default 100. */
  maxTopicsPerRequest?: number;
  /** Longest topic, topic selector or update id, in characters. Default 2048. */
  maxTopicLength?: number;
  /**
   * Most one template or URL pattern may cost once compiled, in automaton states + ε-edges (the
   * work of matching one topic character against it), in a subscription or a token. Default
   * DEFAULT_MAX_SELECTOR_COST (1024). Over it: 400 SELECTOR_TOO_COMPLEX (401 in a token).
   */
  maxSelectorCost?: number;
  /**
   * Most the pattern selectors of one subscription may cost together (same measure): it bounds
   * the matching work one subscriber adds to every publish. Default
   * DEFAULT_MAX_SUBSCRIBER_SELECTOR_COST (4096). Over it: 400 SELECTOR_TOO_COMPLEX.
   */
  maxSubscriberSelectorCost?: number;
  /** Most updates replayed to one subscriber on resume. Default 10 000. */
  maxReplay?: number;
  /**
   * Updates read from the store in one step of a replay. Default DEFAULT_REPLAY_PAGE_SIZE (256).
   */
  replayPageSize?: number;
  /**
   * Bytes of history pages (and their encoded frames) kept in memory for replays to share, so a
   * reconnect storm reads and encodes each update once. Default DEFAULT_HISTORY_CACHE_BYTES
   * (16 MiB); 0 turns the cache off.
   */
  historyCacheBytes?: number;
  /**
   * How long fan-out and replays may run in one event-loop turn before they let pending I/O
   * (health checks, publishes, new connections) go first, in ms; 0 yields after every step (for
   * tests). Default DEFAULT_LOOP_SLICE_MS.
   */
  loopSliceMs?: number;
  /**
   * Most updates that may wait for fan-out (behind one whose delivery is paused) before publishes
   * are refused with 503 HUB_OVERLOADED and `Retry-After`. Default DEFAULT_MAX_DISPATCH_BACKLOG.
   */
  maxDispatchBacklog?: number;
  /**
   * Most event streams one client may hold open at once; past it a subscribe is answered 429
   * TOO_MANY_STREAMS with `Retry-After`. A client is the token's `iss` + `sub` when the token has
   * a `sub`, else the client's address (see `trustedProxies`). Counted per hub process. Default
   * DEFAULT_MAX_STREAMS_PER_CLIENT; 0 = no limit.
   */
  maxStreamsPerClient?: number;
  /**
   * Subscribe attempts a second per client address, on average; up to `subscribeBurst` at once.
   * Checked first, before the token is verified: past it 429 RATE_LIMITED with `Retry-After`.
   * Counted per hub process. Defaults DEFAULT_MAX_SUBSCRIBE_RATE and DEFAULT_SUBSCRIBE_BURST;
   * 0 = no limit.
   */
  maxSubscribeRate?: number;
  subscribeBurst?: number;
  /**
   * Publishes a second per publisher (the token's `iss` + `sub` when it has a `sub`, else the
   * client's address), on average; up to `publishBurst` at once. Checked once the token is
   * verified, before the body is read: past it 429 RATE_LIMITED with `Retry-After`. `hub.publish()`
   * is not limited. Defaults DEFAULT_MAX_PUBLISH_RATE and DEFAULT_PUBLISH_BURST; 0 = no limit.
   */
  maxPublishRate?: number;
  publishBurst?: number;
  /**
   * Reverse proxies whose forwarding headers are believed: addresses or CIDRs (`10.0.0.0/8`,
   * `::1`). When a request's peer is one of them, the client's address is the right-most
   * `X-Forwarded-For` entry (else `Forwarded: for=`) that is not itself a trusted proxy; the
   * per-client limits and the logs use it. Default none: forwarding headers are ignored.
   */
  trustedProxies?: string[];
  /** `retry:` sent to new subscribers, in ms (0 = do not send). */
  retryMs?: number;
  /** Verified tokens whose claims are kept, so a reused token is not verified again. Default 1000. */
  tokenCacheSize?: number;
  /** How long a verified token's claims may be reused (never past its `exp`), in ms. Default 60 000. */
  tokenCacheTtlMs?: number;
  /** Where structured logs go; default a pino logger at `info`. */
  logger?: Logger;
}

/** Options that resolve into another one: the keys become `authorizer`. */
type KeyOptions = 'jwt' | 'publisherJwt' | 'subscriberJwt' | 'jwtIssuers';

/**
 * `HubOptions` with every default filled in; what the hub's modules read. Derived from
 * `HubOptions`, so an option added there is required here (and in `resolveHubOptions`) at once;
 * only the origin lists change type (frozen).
 */
export type ResolvedHubOptions = Required<
  Omit<
    HubOptions,
    KeyOptions | 'corsOrigins' | 'publishOrigins' | 'authorizationServers' | 'trustedProxies'
  >
> & {
  trustedProxies: readonly string[];
  corsOrigins: readonly string[];
  publishOrigins: readonly string[];
  authorizationServers: readonly string[];
};

/** The well-known path of every Mercure hub (RFC 8615). */
export const DEFAULT_HUB_PATH = '/.well-known/mercure';
/**
 * The current spec's cookie name: the `__Secure-` prefix makes browsers refuse to set it except
 * over HTTPS from a secure origin, so no plain-HTTP page can plant a token in it.
 */
export const DEFAULT_COOKIE_NAME = '__Secure-mercure_access_token';
/** Below the 30–60 s idle timeouts of common proxies and load balancers. */
export const DEFAULT_HEARTBEAT_MS = 15_000;
/**
 * One hour. Mercure asks hubs to cap connection lifetime independently of `exp`, because a long
 * stream outlives a revoked token; clients resume from their Last-Event-ID, so the cut costs one
 * reconnect per hour and nothing is lost.
 */
export const DEFAULT_MAX_STREAM_LIFETIME_MS = 60 * 60 * 1000;
/** Up to 10 % earlier, so the streams opened together after a deploy do not reconnect together. */
export const DEFAULT_LIFETIME_JITTER = 0.1;
/**
 * The event stream's bound (256 KiB): it absorbs bursts of hundreds of typical updates; a
 * subscriber further behind is cut off (and resumes from its Last-Event-ID), so a stuck client
 * never pins more than this. Lower it for many subscribers per process.
 */
export const DEFAULT_MAX_QUEUE_BYTES = STREAM_MAX_QUEUE_BYTES;
/**
 * 1 MiB: far above a normal update (typically a few KB of JSON), small enough that concurrent
 * publishes cannot exhaust memory. The body is buffered before it is parsed.
 */
export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;
/**
 * 100 selectors per subscription (or topics per update): generous for real pages, and it bounds
 * the matching work one request can add to every later dispatch.
 */
export const DEFAULT_MAX_TOPICS_PER_REQUEST = 100;
/**
 * 2048 characters: the practical URL length limit of browsers and proxies, and it bounds the cost
 * of compiling and matching one selector (URL patterns compile to regular expressions).
 */
export const DEFAULT_MAX_TOPIC_LENGTH = 2048;
/**
 * 1024 (states + ε-edges of one compiled template or URL pattern, see nfa.ts): typical selectors
 * cost 10–30, and at the limit one match of a 2048-character topic stays under about 18 ms
 * (`bench/selector-worst-case.ts`: ≤ 9 ns a unit a character on a 2-core machine).
 */
export const DEFAULT_MAX_SELECTOR_COST = TOPIC_SELECTOR_MAX_COST;
/**
 * 4096 over all pattern selectors of one subscription, and over a token's selectors for one
 * action (see DEFAULT_MAX_SELECTOR_SET_COST for the figures). Exact selectors cost nothing.
 */
export const DEFAULT_MAX_SUBSCRIBER_SELECTOR_COST = DEFAULT_MAX_SELECTOR_SET_COST;
/**
 * 10 000 updates replayed to one reconnecting subscriber: covers minutes of downtime at a busy
 * topic while bounding the memory and CPU that one reconnect can cost (about 10 MB at 1 KB each).
 */
export const DEFAULT_MAX_REPLAY = 10_000;
/**
 * 256 updates per history read: one read of a quarter megabyte at 1 KB per update takes a
 * millisecond or two, short enough to interleave with live traffic, large enough that a replay
 * of 10 000 updates needs only 40 reads.
 */
export const DEFAULT_REPLAY_PAGE_SIZE = 256;
/**
 * 16 MiB of shared history pages: a default SQLite history (10 000 updates of 1 KB) fits with
 * its frames, so 50 clients resuming from `earliest` after a restart cost one read of it.
 */
export const DEFAULT_HISTORY_CACHE_BYTES = 16 * 1024 * 1024;
/**
 * 10 ms: fan-out to 10 000 subscribers fits in one or two slices, while a health check or a
 * publish never waits behind more than about one slice of it.
 */
export const DEFAULT_LOOP_SLICE_MS = 10;
/**
 * 1000 updates: a burst that large is absorbed, while a publisher faster than fan-out for good
 * (each update to 10 000 subscribers takes ~20 ms) is told to slow down once delivery runs about
 * 20 s behind, instead of growing memory and latency without bound.
 */
export const DEFAULT_MAX_DISPATCH_BACKLOG = 1000;
/**
 * 64 streams per client. A browser opens at most 6 HTTP/1.1 connections per origin across all its
 * tabs, so one user over HTTP/1.1 never gets near it; over HTTP/2 every tab's EventSource is one
 * stream of a shared connection, and 64 still leaves room for a user with dozens of tabs. One
 * client is then bounded to 64 × maxQueueBytes (16 MiB at the default) of queued data and 64
 * subscribers' dispatch work, instead of everything up to the connection limit.
 */
export const DEFAULT_MAX_STREAMS_PER_CLIENT = 64;
/**
 * 20 subscribe attempts a second per address, 40 at once. One browser opens a handful of streams
 * when a page loads (at most 6 HTTP/1.1 connections per origin, across tabs) and an EventSource
 * reconnects about 3 s after a drop, so one user's normal peak is a few attempts in a few
 * seconds: the burst lets the page load of several users behind one address (an office NAT) pass
 * at once, and a reconnect storm after a restart or deploy spreads over 2 s. A client looping on
 * reconnects (each may verify a token, compile selectors and replay history) is held to 20 a
 * second.
 */
export const DEFAULT_MAX_SUBSCRIBE_RATE = 20;
export const DEFAULT_SUBSCRIBE_BURST = 40;
/**
 * 1000 publishes a second per publisher, 2000 at once. An application's backend usually
 * publishes for all of its users with one token, so this is a whole application's rate, and it is
 * above what one node fans out to a large audience (about 20 ms an update to 10 000 subscribers):
 * a legitimate publisher meets `maxDispatchBacklog` first. What it stops is one publisher (a
 * runaway loop, a leaked token) taking every other publisher's share; the burst absorbs a batch
 * job's two seconds of backlog.
 */
export const DEFAULT_MAX_PUBLISH_RATE = 1000;
export const DEFAULT_PUBLISH_BURST = 2000;

/**
 * 1000 tokens: publishers reuse one token for many publishes, so a small cache removes almost all
 * verifications; 1000 entries of claims are well under a megabyte.
 */
export const DEFAULT_TOKEN_CACHE_SIZE = 1000;
/**
 * One minute: how long a key rotation (a JWKS change) may take to reach tokens already seen. The
 * token's own `exp` always applies.
 */
export const DEFAULT_TOKEN_CACHE_TTL_MS = 60_000;

/** Options whose default depends on other options, or is an object made for each hub. */
type DerivedDefault =
  | 'transport'
  | 'authorizer'
  | 'publicUrl'
  | 'publishOrigins'
  | 'jwtAudience'
  | 'logger';

/**
 * The default of every option that has a fixed one: what `resolveHubOptions` fills in and what
 * the CLI's settings table (`--help`, docs/server.md) shows. Typed from `ResolvedHubOptions`, so
 * an option cannot go without one.
 */
export const HUB_DEFAULTS: Readonly<Omit<ResolvedHubOptions, DerivedDefault>> = Object.freeze({
  anonymous: false,
  allowQueryToken: false,
  cookieName: DEFAULT_COOKIE_NAME,
  corsOrigins: Object.freeze([]),
  authorizationServers: Object.freeze([]),
  path: DEFAULT_HUB_PATH,
  subscriptions: false,
  heartbeatMs: DEFAULT_HEARTBEAT_MS,
  maxStreamLifetimeMs: DEFAULT_MAX_STREAM_LIFETIME_MS,
  lifetimeJitter: DEFAULT_LIFETIME_JITTER,
  maxQueueBytes: DEFAULT_MAX_QUEUE_BYTES,
  detachStreams: false,
  maxBodyBytes: DEFAULT_MAX_BODY_BYTES,
  maxTopicsPerRequest: DEFAULT_MAX_TOPICS_PER_REQUEST,
  maxTopicLength: DEFAULT_MAX_TOPIC_LENGTH,
  maxSelectorCost: DEFAULT_MAX_SELECTOR_COST,
  maxSubscriberSelectorCost: DEFAULT_MAX_SUBSCRIBER_SELECTOR_COST,
  maxReplay: DEFAULT_MAX_REPLAY,
  replayPageSize: DEFAULT_REPLAY_PAGE_SIZE,
  historyCacheBytes: DEFAULT_HISTORY_CACHE_BYTES,
  loopSliceMs: DEFAULT_LOOP_SLICE_MS,
  maxDispatchBacklog: DEFAULT_MAX_DISPATCH_BACKLOG,
  maxStreamsPerClient: DEFAULT_MAX_STREAMS_PER_CLIENT,
  maxSubscribeRate: DEFAULT_MAX_SUBSCRIBE_RATE,
  subscribeBurst: DEFAULT_SUBSCRIBE_BURST,
  maxPublishRate: DEFAULT_MAX_PUBLISH_RATE,
  publishBurst: DEFAULT_PUBLISH_BURST,
  trustedProxies: Object.freeze([]),
  retryMs: 0,
  tokenCacheSize: DEFAULT_TOKEN_CACHE_SIZE,
  tokenCacheTtlMs: DEFAULT_TOKEN_CACHE_TTL_MS,
});

function invalid(detail: string): SseHubError {
  return new SseHubError('INVALID_OPTION', detail);
}

function integer(name: string, value: unknown, fallback: number, min: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) {
    throw invalid(`${name} must be an integer >= ${min}`);
  }
  return value;
}

function flag(name: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') throw invalid(`${name} must be a boolean`);
  return value;
}

function origins(name: string, value: unknown, fallback: readonly string[]): readonly string[] {
  if (value === undefined) return fallback;
  if (!Array.isArray(value) || !value.every((o) => typeof o === 'string')) {
    throw invalid(`${name} must be an array of strings`);
  }
  for (const origin of value as string[]) {
    if (origin === '*') continue;
    let parsed: URL;
    try {
      parsed = new URL(origin);
    } catch {
      throw invalid(`${name}: ${origin} is not an origin`);
    }
    // Browsers send the serialized origin; a trailing slash or a path would never match it.
    if (parsed.origin !== origin) throw invalid(`${name}: ${origin} is not an origin`);
  }
  return Object.freeze([...(value as string[])]);
}

/**
 * Origins that may publish with cookie authentication. `*` is refused: it would let any site's
 * cross-site post publish with the user's cookie (CSRF). The default is `corsOrigins` without `*`.
 */
function publishOrigins(value: unknown, corsOrigins: readonly string[]): readonly string[] {
  if (value === undefined) return Object.freeze(corsOrigins.filter((o) => o !== '*'));
  const list = origins('publishOrigins', value, corsOrigins);
  if (list.includes('*')) {
    throw invalid('publishOrigins must list origins by name; * would disable the CSRF guard');
  }
  return list;
}

/**
 * Parses `trustedProxies` entries (addresses or CIDRs such as `10.0.0.0/8`, `::1`,
 * `fd00::/8`) into a BlockList; returns the entry that is neither, or the list.
 */
export function parseTrustedProxies(
  entries: readonly string[],
): { list: BlockList } | { invalid: string } {
  const list = new BlockList();
  for (const entry of entries) {
    const slash = entry.indexOf('/');
    const address = slash === -1 ? entry : entry.slice(0, slash);
    const family = isIP(address);
    if (family === 0) return { invalid: entry };
    const type = family === 4 ? 'ipv4' : 'ipv6';
    if (slash === -1) {
      list.addAddress(address, type);
      continue;
    }
    const bits = entry.slice(slash + 1);
    const prefix = /^\d{1,3}$/.test(bits) ? Number(bits) : Number.NaN;
    if (!(prefix >= 0 && prefix <= (family === 4 ? 32 : 128))) return { invalid: entry };
    list.addSubnet(address, prefix, type);
  }
  return { list };
}

/** `trustedProxies`: addresses or CIDRs, each checked here so a typo fails at start. */
function trustedProxies(value: unknown): readonly string[] {
  if (value === undefined) return HUB_DEFAULTS.trustedProxies;
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) {
    throw invalid('trustedProxies must be an array of strings');
  }
  const parsed = parseTrustedProxies(value as string[]);
  if ('invalid' in parsed) {
    throw invalid(`trustedProxies: ${parsed.invalid} is not an IP address or CIDR`);
  }
  return Object.freeze([...(value as string[])]);
}

function publicUrl(value: unknown, path: string): string {
  if (value === undefined) return `https://localhost${path}`;
  if (typeof value !== 'string') throw invalid('publicUrl must be a string');
  try {
    const url = new URL(value);
    if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new Error('not http(s)');
  } catch {
    throw invalid('publicUrl must be an absolute http(s) URL');
  }
  return value;
}

/** A cookie name is an RFC 6265 token (RFC 9110 tchar): no separators, spaces or controls. */
const COOKIE_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

function cookieName(value: unknown): string {
  if (value === undefined) return HUB_DEFAULTS.cookieName;
  if (typeof value !== 'string' || !COOKIE_NAME.test(value)) {
    throw invalid("cookieName must be a cookie name (letters, digits and !#$%&'*+-.^_`|~)");
  }
  return value;
}

function hubPath(value: unknown): string {
  if (value === undefined) return HUB_DEFAULTS.path;
  if (
    typeof value !== 'string' ||
    !value.startsWith('/') ||
    (value.length > 1 && value.endsWith('/')) ||
    /[?#\s]/.test(value)
  ) {
    throw invalid('path must start with / and have no trailing slash, query or fragment');
  }
  return value;
}

const refuseEveryToken: Authorizer = {
  async verify() {
    throw new SseHubError('INVALID_TOKEN', 'no keys are configured');
  },
};

function keySource(jwt: JwtKeyOptions): KeySource {
  const source: KeySource = {};
  if (jwt.key !== undefined) source.key = jwt.key;
  if (jwt.jwksUrl !== undefined) source.jwksUrl = jwt.jwksUrl;
  if (jwt.algorithms !== undefined) source.algorithms = jwt.algorithms;
  return source;
}

/** The resource identifier: `jwtAudience`, else the public URL. */
function audience(value: unknown, hubUrl: string): string {
  if (value === undefined) return hubUrl;
  if (typeof value !== 'string' || value.trim() === '') {
    throw invalid('jwtAudience must be a non-empty string');
  }
  return value;
}

const hasKeys = (o: { jwt?: unknown; publisherJwt?: unknown; subscriberJwt?: unknown }) =>
  o.jwt !== undefined || o.publisherJwt !== undefined || o.subscriberJwt !== undefined;

/** RoleKeys of the authorizer from hub-shaped key options. */
function roleKeys(o: Pick<HubOptions, 'jwt' | 'publisherJwt' | 'subscriberJwt'>): RoleKeys {
  const keys: RoleKeys = keySource(o.jwt ?? {});
  if (o.publisherJwt) keys.publisher = keySource(o.publisherJwt);
  if (o.subscriberJwt) keys.subscriber = keySource(o.subscriberJwt);
  return keys;
}

/** The trusted issuers: `jwtIssuers`, else the public URL's origin bound to the hub's keys. */
function trustedIssuers(options: HubOptions, hubUrl: string): TrustedIssuer[] {
  const list = options.jwtIssuers;
  if (list === undefined) {
    return hasKeys(options) ? [{ issuer: new URL(hubUrl).origin }] : [];
  }
  if (!Array.isArray(list)) throw invalid('jwtIssuers must be an array');
  return list.map((entry) => {
    if (entry === null || typeof entry !== 'object' || typeof entry.issuer !== 'string') {
      throw invalid('each of jwtIssuers needs an "issuer" string');
    }
    return { issuer: entry.issuer, ...roleKeys(entry) };
  });
}

function authorizer(
  options: HubOptions,
  baseURL: string,
  resource: string,
  issuers: TrustedIssuer[],
  maxSelectorCost: number,
  maxSelectorSetCost: number,
): Authorizer {
  if (options.authorizer !== undefined) {
    if (typeof options.authorizer?.verify !== 'function') {
      throw invalid('authorizer must have a verify(token, role) method');
    }
    return options.authorizer;
  }
  if (!hasKeys(options) && issuers.length === 0) return refuseEveryToken;
  const authorizerOptions: AuthorizerOptions = {
    ...roleKeys(options),
    issuers,
    audience: resource,
    baseURL,
    maxSelectorCost,
    maxSelectorSetCost,
  };
  return createAuthorizer(authorizerOptions);
}

/** `authorizationServers`: http(s) URLs, each a trusted issuer (else its tokens would fail). */
function authorizationServers(
  value: unknown,
  issuers: TrustedIssuer[],
  custom: boolean,
): readonly string[] {
  if (value === undefined) return HUB_DEFAULTS.authorizationServers;
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) {
    throw invalid('authorizationServers must be an array of strings');
  }
  for (const server of value as string[]) {
    if (!custom && !issuers.some((i) => i.issuer === server)) {
      throw invalid(`authorizationServers: ${server} is not one of jwtIssuers`);
    }
  }
  return Object.freeze([...(value as string[])]);
}

/**
 * Validates `options` and fills in every default. Throws INVALID_OPTION naming the first bad
 * option. Creates the default in-memory transport when none is given.
 */
export function resolveHubOptions(options: HubOptions = {}): ResolvedHubOptions {
  if (options === null || typeof options !== 'object') throw invalid('options must be an object');
  const lifetimeJitter = options.lifetimeJitter ?? HUB_DEFAULTS.lifetimeJitter;
  if (typeof lifetimeJitter !== 'number' || !(lifetimeJitter >= 0 && lifetimeJitter < 1)) {
    throw invalid('lifetimeJitter must be a number from 0 (inclusive) to 1 (exclusive)');
  }
  const heartbeatMs = integer('heartbeatMs', options.heartbeatMs, HUB_DEFAULTS.heartbeatMs, 0);
  if (heartbeatMs !== 0 && (heartbeatMs < MIN_HEARTBEAT_MS || heartbeatMs > MAX_HEARTBEAT_MS)) {
    throw invalid(`heartbeatMs must be 0 or from ${MIN_HEARTBEAT_MS} to ${MAX_HEARTBEAT_MS}`);
  }
  const path = hubPath(options.path);
  const hubUrl = publicUrl(options.publicUrl, path);
  const corsOrigins = origins('corsOrigins', options.corsOrigins, HUB_DEFAULTS.corsOrigins);
  const maxSelectorCost = integer(
    'maxSelectorCost',
    options.maxSelectorCost,
    HUB_DEFAULTS.maxSelectorCost,
    1,
  );
  const maxSubscriberSelectorCost = integer(
    'maxSubscriberSelectorCost',
    options.maxSubscriberSelectorCost,
    HUB_DEFAULTS.maxSubscriberSelectorCost,
    1,
  );
  if (options.transport !== undefined && typeof options.transport?.publish !== 'function') {
    throw invalid('transport must implement the Transport interface');
  }
  const resource = audience(options.jwtAudience, hubUrl);
  const issuers = trustedIssuers(options, hubUrl);
  const resolved: Omit<ResolvedHubOptions, 'transport'> = {
    authorizer: authorizer(
      options,
      hubUrl,
      resource,
      issuers,
      maxSelectorCost,
      maxSubscriberSelectorCost,
    ),
    jwtAudience: resource,
    authorizationServers: authorizationServers(
      options.authorizationServers,
      issuers,
      options.authorizer !== undefined,
    ),
    anonymous: flag('anonymous', options.anonymous, HUB_DEFAULTS.anonymous),
    allowQueryToken: flag('allowQueryToken', options.allowQueryToken, HUB_DEFAULTS.allowQueryToken),
    cookieName: cookieName(options.cookieName),
    detachStreams: flag('detachStreams', options.detachStreams, HUB_DEFAULTS.detachStreams),
    corsOrigins,
    publishOrigins: publishOrigins(options.publishOrigins, corsOrigins),
    path,
    publicUrl: hubUrl,
    subscriptions: flag('subscriptions', options.subscriptions, HUB_DEFAULTS.subscriptions),
    heartbeatMs,
    maxStreamLifetimeMs: integer(
      'maxStreamLifetimeMs',
      options.maxStreamLifetimeMs,
      HUB_DEFAULTS.maxStreamLifetimeMs,
      0,
    ),
    lifetimeJitter,
    maxQueueBytes: integer('maxQueueBytes', options.maxQueueBytes, HUB_DEFAULTS.maxQueueBytes, 1),
    maxBodyBytes: integer('maxBodyBytes', options.maxBodyBytes, HUB_DEFAULTS.maxBodyBytes, 1),
    maxTopicsPerRequest: integer(
      'maxTopicsPerRequest',
      options.maxTopicsPerRequest,
      HUB_DEFAULTS.maxTopicsPerRequest,
      1,
    ),
    maxTopicLength: integer(
      'maxTopicLength',
      options.maxTopicLength,
      HUB_DEFAULTS.maxTopicLength,
      1,
    ),
    maxSelectorCost,
    maxSubscriberSelectorCost,
    maxReplay: integer('maxReplay', options.maxReplay, HUB_DEFAULTS.maxReplay, 0),
    replayPageSize: integer(
      'replayPageSize',
      options.replayPageSize,
      HUB_DEFAULTS.replayPageSize,
      1,
    ),
    historyCacheBytes: integer(
      'historyCacheBytes',
      options.historyCacheBytes,
      HUB_DEFAULTS.historyCacheBytes,
      0,
    ),
    loopSliceMs: integer('loopSliceMs', options.loopSliceMs, HUB_DEFAULTS.loopSliceMs, 0),
    maxDispatchBacklog: integer(
      'maxDispatchBacklog',
      options.maxDispatchBacklog,
      HUB_DEFAULTS.maxDispatchBacklog,
      1,
    ),
    maxStreamsPerClient: integer(
      'maxStreamsPerClient',
      options.maxStreamsPerClient,
      HUB_DEFAULTS.maxStreamsPerClient,
      0,
    ),
    maxSubscribeRate: integer(
      'maxSubscribeRate',
      options.maxSubscribeRate,
      HUB_DEFAULTS.maxSubscribeRate,
      0,
    ),
    subscribeBurst: integer(
      'subscribeBurst',
      options.subscribeBurst,
      HUB_DEFAULTS.subscribeBurst,
      1,
    ),
    maxPublishRate: integer(
      'maxPublishRate',
      options.maxPublishRate,
      HUB_DEFAULTS.maxPublishRate,
      0,
    ),
    publishBurst: integer('publishBurst', options.publishBurst, HUB_DEFAULTS.publishBurst, 1),
    trustedProxies: trustedProxies(options.trustedProxies),
    retryMs: integer('retryMs', options.retryMs, HUB_DEFAULTS.retryMs, 0),
    tokenCacheSize: integer(
      'tokenCacheSize',
      options.tokenCacheSize,
      HUB_DEFAULTS.tokenCacheSize,
      0,
    ),
    tokenCacheTtlMs: integer(
      'tokenCacheTtlMs',
      options.tokenCacheTtlMs,
      HUB_DEFAULTS.tokenCacheTtlMs,
      0,
    ),
    logger: options.logger ?? pino({ name: 'ssehub', level: 'info' }),
  };
  // Last, so that a bad option above does not leave a transport behind.
  return { ...resolved, transport: options.transport ?? createMemoryTransport() };
}
