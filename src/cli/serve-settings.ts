import { HUB_DEFAULTS, type HubOptions } from '../hub/options.js';
import {
  DEFAULT_HEADERS_TIMEOUT_MS,
  DEFAULT_KEEP_ALIVE_TIMEOUT_MS,
  DEFAULT_MAX_CONNECTIONS,
  DEFAULT_MAX_STREAMS_PER_CONNECTION,
  DEFAULT_REQUEST_TIMEOUT_MS,
} from '../server/limits.js';
import { DEFAULT_MAX_LOG_BUFFER_BYTES } from '../server/logging.js';
import { LOG_FORMATS, LOG_LEVELS } from '../server/options.js';

const MIB = 1024 * 1024;
const size = (bytes: number) => (bytes % MIB === 0 ? `${bytes / MIB}mb` : `${bytes / 1024}kb`);
const seconds = (ms: number) =>
  ms === 0 ? '0' : ms % 3_600_000 === 0 ? `${ms / 3_600_000}h` : `${ms / 1000}s`;
const onOff = (on: boolean) => (on ? 'on' : 'off');

export type Kind =
  | 'port'
  | 'string'
  | 'boolean'
  | 'list'
  | 'duration'
  | 'bytes'
  | 'integer'
  | 'level'
  | 'choice'
  | 'workers';

/**
 * One setting of `ssehub serve`: its flag, its environment variables (first set one wins), how it
 * is read, and the text `--help` and docs/server.md show. The table is the single source of truth:
 * the CLI declares its options from it and {@link resolveServeConfig} reads values through it.
 */
export interface ServeSetting {
  /** The key commander stores the flag's value under. */
  readonly key: string;
  /** `--port <number>`; a boolean has a plain flag (`--metrics`). */
  readonly flag: string;
  /** For booleans: the negated flag (`--no-demo`), when the setting can be turned off. */
  readonly negate?: string;
  readonly env: readonly string[];
  readonly kind: Kind;
  readonly group: 'Server' | 'Authorization' | 'Hub' | 'Limits' | 'Shutdown';
  readonly description: string;
  /**
   * The `HubOptions` key the setting sets, for the hub's settings; their default is the hub's own
   * (`HUB_DEFAULTS`), left out of the options when unset.
   */
  readonly hub?: keyof HubOptions;
  /**
   * Default as shown to humans; the value itself is applied by the server or the hub. For a hub
   * setting it is made from `HUB_DEFAULTS`, so `--help` cannot drift from the code.
   */
  readonly defaultText?: string;
  /** For `integer` and `duration`: 0 is refused (a limit of nothing, or no time at all). */
  readonly positive?: boolean;
  /** For `choice`: the values accepted. */
  readonly choices?: readonly string[];
}

/** Values of `--durability`; see `SqliteTransportOptions.durability`. */
export const DURABILITIES = ['process', 'power'] as const;

/** Values of `--ui`. */
export const UI_MODES = ['auto', 'on', 'off'] as const;

export const SERVE_SETTINGS: readonly ServeSetting[] = [
  {
    key: 'port',
    flag: '-p, --port <number>',
    env: ['SSEHUB_PORT', 'PORT'],
    kind: 'port',
    group: 'Server',
    description: 'TCP port to listen on; 0 picks a free port',
    defaultText: '3000',
  },
  {
    key: 'host',
    flag: '--host <address>',
    env: ['SSEHUB_HOST'],
    kind: 'string',
    group: 'Server',
    description: 'interface to bind, e.g. 127.0.0.1 for local access only',
    defaultText: 'all interfaces',
  },
  {
    key: 'tlsCert',
    flag: '--tls-cert <file>',
    env: ['SSEHUB_TLS_CERT'],
    kind: 'string',
    group: 'Server',
    description: 'PEM certificate file; with --tls-key serves HTTP/2 over TLS (HTTP/1.1 fallback)',
  },
  {
    key: 'tlsKey',
    flag: '--tls-key <file>',
    env: ['SSEHUB_TLS_KEY'],
    kind: 'string',
    group: 'Server',
    description: 'PEM private key file for --tls-cert',
  },
  {
    key: 'transport',
    flag: '--transport <url>',
    env: ['SSEHUB_TRANSPORT'],
    kind: 'string',
    group: 'Server',
    description:
      'history store: memory: (lost on restart), sqlite:<file> (survives restarts) or redis://host:port (shared by many hubs)',
    defaultText: 'memory:',
  },
  {
    key: 'durability',
    flag: '--durability <mode>',
    env: ['SSEHUB_DURABILITY'],
    kind: 'choice',
    choices: DURABILITIES,
    group: 'Server',
    description:
      'sqlite: only; what an acknowledged publish survives: process (a crash of the process) or power (a power loss; one fsync per publish)',
    defaultText: 'process',
  },
  {
    key: 'workers',
    flag: '--workers <count>',
    env: ['SSEHUB_WORKERS'],
    kind: 'workers',
    group: 'Server',
    description:
      'processes serving the port: an integer from 1 to 1024, or auto for one per core (os.availableParallelism()); above 1 a primary process owns the memory:/sqlite: store and restarts workers that exit',
    defaultText: '1',
  },
  {
    key: 'demo',
    flag: '--demo',
    negate: '--no-demo',
    env: ['SSEHUB_DEMO'],
    kind: 'boolean',
    group: 'Server',
    description: 'serve the demo page at /, /events and /sse',
    defaultText: 'on',
  },
  {
    key: 'ui',
    flag: '--ui <mode>',
    env: ['SSEHUB_UI'],
    kind: 'choice',
    choices: UI_MODES,
    group: 'Server',
    description:
      'serve the web console at /ui/ (its data needs a token that may read {path}/subscriptions): on, off, or auto (on only in development, when no key is configured)',
    defaultText: 'auto',
  },
  {
    key: 'metrics',
    flag: '--metrics',
    negate: '--no-metrics',
    env: ['SSEHUB_METRICS'],
    kind: 'boolean',
    group: 'Server',
    description: 'serve Prometheus metrics at /metrics',
    defaultText: 'off',
  },
  {
    key: 'logLevel',
    flag: '--log-level <level>',
    env: ['SSEHUB_LOG_LEVEL'],
    kind: 'level',
    group: 'Server',
    description: `one of ${LOG_LEVELS.join(', ')}`,
    defaultText: 'info',
  },
  {
    key: 'logFormat',
    flag: '--log-format <format>',
    env: ['SSEHUB_LOG_FORMAT'],
    kind: 'choice',
    choices: LOG_FORMATS,
    group: 'Server',
    description:
      'json (one JSON object a line), pretty (human-readable, coloured on a terminal unless NO_COLOR is set) or auto (pretty when stdout is a terminal, else json)',
    defaultText: 'auto',
  },
  {
    key: 'jwtKey',
    flag: '--jwt-key <key>',
    env: ['SSEHUB_JWT_KEY'],
    kind: 'string',
    group: 'Authorization',
    description:
      'HMAC secret or PEM public key verifying publisher and subscriber tokens (prefer the env var: flags show in `ps`)',
    defaultText: 'a random development secret',
  },
  {
    key: 'jwtAlgorithms',
    flag: '--jwt-algorithms <list>',
    env: ['SSEHUB_JWT_ALGORITHMS'],
    kind: 'list',
    group: 'Authorization',
    description: 'allowed JWT algorithms, e.g. HS256,RS256',
    defaultText: 'derived from the key',
  },
  {
    key: 'jwksUrl',
    flag: '--jwks-url <url>',
    env: ['SSEHUB_JWKS_URL'],
    kind: 'string',
    group: 'Authorization',
    description: 'JWKS URL whose keys verify publisher and subscriber tokens',
  },
  {
    key: 'publisherJwtKey',
    flag: '--publisher-jwt-key <key>',
    env: ['SSEHUB_PUBLISHER_JWT_KEY'],
    kind: 'string',
    group: 'Authorization',
    description: 'key for publisher tokens only (overrides --jwt-key)',
  },
  {
    key: 'publisherJwksUrl',
    flag: '--publisher-jwks-url <url>',
    env: ['SSEHUB_PUBLISHER_JWKS_URL'],
    kind: 'string',
    group: 'Authorization',
    description: 'JWKS URL for publisher tokens only',
  },
  {
    key: 'subscriberJwtKey',
    flag: '--subscriber-jwt-key <key>',
    env: ['SSEHUB_SUBSCRIBER_JWT_KEY'],
    kind: 'string',
    group: 'Authorization',
    description: 'key for subscriber tokens only (overrides --jwt-key)',
  },
  {
    key: 'subscriberJwksUrl',
    flag: '--subscriber-jwks-url <url>',
    env: ['SSEHUB_SUBSCRIBER_JWKS_URL'],
    kind: 'string',
    group: 'Authorization',
    description: 'JWKS URL for subscriber tokens only',
  },
  {
    key: 'jwtIssuer',
    flag: '--jwt-issuer <list>',
    env: ['SSEHUB_JWT_ISSUERS'],
    kind: 'list',
    group: 'Authorization',
    description:
      'trusted issuers of authorization_details tokens (their iss), comma-separated; each is id (bound to the keys above: one at most), id=<https JWKS URL> or id=@<file> (HMAC secret or PEM public key)',
    defaultText: 'the origin of --public-url',
  },
  {
    key: 'jwtAudience',
    hub: 'jwtAudience',
    flag: '--jwt-audience <id>',
    env: ['SSEHUB_JWT_AUDIENCE'],
    kind: 'string',
    group: 'Authorization',
    description:
      'resource identifier that authorization_details tokens must carry in aud (and the metadata names as resource)',
    defaultText: 'the --public-url',
  },
  {
    key: 'authorizationServer',
    hub: 'authorizationServers',
    flag: '--authorization-server <list>',
    env: ['SSEHUB_AUTHORIZATION_SERVERS'],
    kind: 'list',
    group: 'Authorization',
    description:
      'authorization servers advertised in the protected resource metadata; each must be a --jwt-issuer',
    defaultText: HUB_DEFAULTS.authorizationServers.join(',') || 'none',
  },
  {
    key: 'anonymous',
    hub: 'anonymous',
    flag: '--anonymous',
    negate: '--no-anonymous',
    env: ['SSEHUB_ANONYMOUS'],
    kind: 'boolean',
    group: 'Authorization',
    description: 'let subscribers without a token receive public updates',
    defaultText: `${onOff(HUB_DEFAULTS.anonymous)}; on when no key is configured`,
  },
  {
    key: 'allowQueryToken',
    hub: 'allowQueryToken',
    flag: '--allow-query-token',
    negate: '--no-allow-query-token',
    env: ['SSEHUB_ALLOW_QUERY_TOKEN'],
    kind: 'boolean',
    group: 'Authorization',
    description: 'accept a token in the ?authorization= query parameter (discouraged)',
    defaultText: onOff(HUB_DEFAULTS.allowQueryToken),
  },
  {
    key: 'cookieName',
    hub: 'cookieName',
    flag: '--cookie-name <name>',
    env: ['SSEHUB_COOKIE_NAME'],
    kind: 'string',
    group: 'Authorization',
    description:
      'cookie holding the token of browser subscribers, advertised as mercure_cookie in the metadata; draft 07 mercureAuthorization is read too',
    defaultText: HUB_DEFAULTS.cookieName,
  },
  {
    key: 'corsOrigins',
    hub: 'corsOrigins',
    flag: '--cors-origins <list>',
    env: ['SSEHUB_CORS_ORIGINS'],
    kind: 'list',
    group: 'Authorization',
    description: 'origins allowed by CORS, comma- or space-separated; * allows any (no cookies)',
    defaultText: HUB_DEFAULTS.corsOrigins.join(',') || 'none',
  },
  {
    key: 'publishOrigins',
    hub: 'publishOrigins',
    flag: '--publish-origins <list>',
    env: ['SSEHUB_PUBLISH_ORIGINS'],
    kind: 'list',
    group: 'Authorization',
    description: 'origins allowed to publish with cookie authentication (`*` is refused)',
    defaultText: 'the CORS origins without *',
  },
  {
    key: 'path',
    hub: 'path',
    flag: '--path <path>',
    env: ['SSEHUB_PATH'],
    kind: 'string',
    group: 'Hub',
    description: 'base path of the hub',
    defaultText: HUB_DEFAULTS.path,
  },
  {
    key: 'publicUrl',
    hub: 'publicUrl',
    flag: '--public-url <url>',
    env: ['SSEHUB_PUBLIC_URL'],
    kind: 'string',
    group: 'Hub',
    description:
      'public URL of the hub, e.g. https://example.com/.well-known/mercure; relative topics and URL patterns resolve against it',
    defaultText: 'https://localhost + path',
  },
  {
    key: 'trustedProxy',
    hub: 'trustedProxies',
    flag: '--trusted-proxy <list>',
    env: ['SSEHUB_TRUSTED_PROXIES'],
    kind: 'list',
    group: 'Hub',
    description:
      'reverse proxies (addresses or CIDRs, e.g. 10.0.0.0/8,::1) whose X-Forwarded-For / Forwarded is believed: the client address for limits and logs',
    defaultText: HUB_DEFAULTS.trustedProxies.join(',') || 'none',
  },
  {
    key: 'subscriptions',
    hub: 'subscriptions',
    flag: '--subscriptions',
    negate: '--no-subscriptions',
    env: ['SSEHUB_SUBSCRIPTIONS'],
    kind: 'boolean',
    group: 'Hub',
    description: 'publish subscription events and serve the subscriptions API',
    defaultText: onOff(HUB_DEFAULTS.subscriptions),
  },
  {
    key: 'heartbeat',
    hub: 'heartbeatMs',
    flag: '--heartbeat <duration>',
    env: ['SSEHUB_HEARTBEAT'],
    kind: 'duration',
    group: 'Hub',
    description: 'interval of keep-alive comments on idle streams; 0 turns them off',
    defaultText: seconds(HUB_DEFAULTS.heartbeatMs),
  },
  {
    key: 'retry',
    hub: 'retryMs',
    flag: '--retry <duration>',
    env: ['SSEHUB_RETRY'],
    kind: 'duration',
    group: 'Hub',
    description: 'reconnection delay (retry:) sent to new subscribers; 0 sends none',
    defaultText: `${seconds(HUB_DEFAULTS.retryMs)} (browsers then wait about 3s)`,
  },
  {
    key: 'maxStreamLifetime',
    hub: 'maxStreamLifetimeMs',
    flag: '--max-stream-lifetime <duration>',
    env: ['SSEHUB_MAX_STREAM_LIFETIME'],
    kind: 'duration',
    group: 'Limits',
    description: 'end each stream after this long (clients resume); 0 means never',
    defaultText: seconds(HUB_DEFAULTS.maxStreamLifetimeMs),
  },
  {
    key: 'maxQueue',
    hub: 'maxQueueBytes',
    flag: '--max-queue <size>',
    env: ['SSEHUB_MAX_QUEUE'],
    kind: 'bytes',
    group: 'Limits',
    description: 'bytes that may wait for one slow subscriber before it is cut off',
    defaultText: size(HUB_DEFAULTS.maxQueueBytes),
  },
  {
    key: 'maxBody',
    hub: 'maxBodyBytes',
    flag: '--max-body <size>',
    env: ['SSEHUB_MAX_BODY'],
    kind: 'bytes',
    group: 'Limits',
    description: 'largest accepted publish body',
    defaultText: size(HUB_DEFAULTS.maxBodyBytes),
  },
  {
    key: 'maxTopics',
    hub: 'maxTopicsPerRequest',
    flag: '--max-topics <number>',
    env: ['SSEHUB_MAX_TOPICS'],
    kind: 'integer',
    group: 'Limits',
    description: 'most topics in one update or subscription',
    defaultText: String(HUB_DEFAULTS.maxTopicsPerRequest),
  },
  {
    key: 'maxTopicLength',
    hub: 'maxTopicLength',
    flag: '--max-topic-length <number>',
    env: ['SSEHUB_MAX_TOPIC_LENGTH'],
    kind: 'integer',
    positive: true,
    group: 'Limits',
    description: 'longest topic, topic selector or update id, in characters',
    defaultText: String(HUB_DEFAULTS.maxTopicLength),
  },
  {
    key: 'maxSelectorCost',
    hub: 'maxSelectorCost',
    flag: '--max-selector-cost <number>',
    env: ['SSEHUB_MAX_SELECTOR_COST'],
    kind: 'integer',
    positive: true,
    group: 'Limits',
    description:
      'most one compiled template or URL pattern may cost (automaton states + edges), in a subscription or a token',
    defaultText: String(HUB_DEFAULTS.maxSelectorCost),
  },
  {
    key: 'maxSubscriberSelectorCost',
    hub: 'maxSubscriberSelectorCost',
    flag: '--max-subscriber-selector-cost <number>',
    env: ['SSEHUB_MAX_SUBSCRIBER_SELECTOR_COST'],
    kind: 'integer',
    positive: true,
    group: 'Limits',
    description: 'most the pattern selectors of one subscription may cost together',
    defaultText: String(HUB_DEFAULTS.maxSubscriberSelectorCost),
  },
  {
    key: 'maxReplay',
    hub: 'maxReplay',
    flag: '--max-replay <number>',
    env: ['SSEHUB_MAX_REPLAY'],
    kind: 'integer',
    group: 'Limits',
    description: 'most updates replayed to one resuming subscriber',
    defaultText: String(HUB_DEFAULTS.maxReplay),
  },
  {
    key: 'maxDispatchBacklog',
    hub: 'maxDispatchBacklog',
    flag: '--max-dispatch-backlog <number>',
    env: ['SSEHUB_MAX_DISPATCH_BACKLOG'],
    kind: 'integer',
    positive: true,
    group: 'Limits',
    description: 'updates that may wait for fan-out before publishes are refused with 503',
    defaultText: String(HUB_DEFAULTS.maxDispatchBacklog),
  },
  {
    key: 'maxStreamsPerClient',
    hub: 'maxStreamsPerClient',
    flag: '--max-streams-per-client <number>',
    env: ['SSEHUB_MAX_STREAMS_PER_CLIENT'],
    kind: 'integer',
    group: 'Limits',
    description:
      'most open streams per client (token iss+sub, else client address); past it 429 (0 = off)',
    defaultText: String(HUB_DEFAULTS.maxStreamsPerClient),
  },
  {
    key: 'maxSubscribeRate',
    hub: 'maxSubscribeRate',
    flag: '--max-subscribe-rate <number>',
    env: ['SSEHUB_MAX_SUBSCRIBE_RATE'],
    kind: 'integer',
    group: 'Limits',
    description:
      'subscribe attempts a second per client address, checked before the token; past it 429 (0 = off)',
    defaultText: String(HUB_DEFAULTS.maxSubscribeRate),
  },
  {
    key: 'subscribeBurst',
    hub: 'subscribeBurst',
    flag: '--subscribe-burst <number>',
    env: ['SSEHUB_SUBSCRIBE_BURST'],
    kind: 'integer',
    positive: true,
    group: 'Limits',
    description: 'subscribe attempts one address may make at once, above --max-subscribe-rate',
    defaultText: String(HUB_DEFAULTS.subscribeBurst),
  },
  {
    key: 'maxPublishRate',
    hub: 'maxPublishRate',
    flag: '--max-publish-rate <number>',
    env: ['SSEHUB_MAX_PUBLISH_RATE'],
    kind: 'integer',
    group: 'Limits',
    description:
      'publishes a second per publisher (token iss+sub, else client address); past it 429 (0 = off)',
    defaultText: String(HUB_DEFAULTS.maxPublishRate),
  },
  {
    key: 'publishBurst',
    hub: 'publishBurst',
    flag: '--publish-burst <number>',
    env: ['SSEHUB_PUBLISH_BURST'],
    kind: 'integer',
    positive: true,
    group: 'Limits',
    description: 'publishes one publisher may make at once, above --max-publish-rate',
    defaultText: String(HUB_DEFAULTS.publishBurst),
  },
  {
    key: 'historyCache',
    hub: 'historyCacheBytes',
    flag: '--history-cache <size>',
    env: ['SSEHUB_HISTORY_CACHE'],
    kind: 'bytes',
    group: 'Limits',
    description: 'history pages kept in memory for concurrent replays to share (0 = off)',
    defaultText: size(HUB_DEFAULTS.historyCacheBytes),
  },
  {
    key: 'maxConnections',
    flag: '--max-connections <number>',
    env: ['SSEHUB_MAX_CONNECTIONS'],
    kind: 'integer',
    positive: true,
    group: 'Limits',
    description:
      'most client connections open at once; past it new ones get 503 with Retry-After (over TLS they are closed)',
    defaultText: `${DEFAULT_MAX_CONNECTIONS}, less if the open-file limit is lower`,
  },
  {
    key: 'maxStreamsPerConnection',
    flag: '--max-streams-per-connection <number>',
    env: ['SSEHUB_MAX_STREAMS_PER_CONNECTION'],
    kind: 'integer',
    positive: true,
    group: 'Limits',
    description:
      'HTTP/2: most streams open at once on one connection; further ones wait (or are refused) until one ends',
    defaultText: String(DEFAULT_MAX_STREAMS_PER_CONNECTION),
  },
  {
    key: 'headersTimeout',
    flag: '--headers-timeout <duration>',
    env: ['SSEHUB_HEADERS_TIMEOUT'],
    kind: 'duration',
    positive: true,
    group: 'Limits',
    description:
      'time a client has to send its request headers (and, over TLS, to finish the handshake)',
    defaultText: seconds(DEFAULT_HEADERS_TIMEOUT_MS),
  },
  {
    key: 'requestTimeout',
    flag: '--request-timeout <duration>',
    env: ['SSEHUB_REQUEST_TIMEOUT'],
    kind: 'duration',
    positive: true,
    group: 'Limits',
    description:
      'time a client has to send a whole request, body included; event streams are not cut',
    defaultText: seconds(DEFAULT_REQUEST_TIMEOUT_MS),
  },
  {
    key: 'keepAliveTimeout',
    flag: '--keep-alive-timeout <duration>',
    env: ['SSEHUB_KEEP_ALIVE_TIMEOUT'],
    kind: 'duration',
    positive: true,
    group: 'Limits',
    description: 'how long an idle keep-alive connection stays open',
    defaultText: seconds(DEFAULT_KEEP_ALIVE_TIMEOUT_MS),
  },
  {
    key: 'maxLogBuffer',
    flag: '--max-log-buffer <size>',
    env: ['SSEHUB_MAX_LOG_BUFFER'],
    kind: 'bytes',
    group: 'Limits',
    description:
      'log bytes held while stdout does not take them; past it lines are dropped and counted',
    defaultText: size(DEFAULT_MAX_LOG_BUFFER_BYTES),
  },
  {
    key: 'drainDelay',
    flag: '--drain-delay <duration>',
    env: ['SSEHUB_DRAIN_DELAY'],
    kind: 'duration',
    group: 'Shutdown',
    description:
      'on SIGTERM, answer /readyz with 503 this long before closing (a second signal exits at once)',
    defaultText: '0',
  },
  {
    key: 'shutdownGrace',
    flag: '--shutdown-grace <duration>',
    env: ['SSEHUB_SHUTDOWN_GRACE'],
    kind: 'duration',
    group: 'Shutdown',
    description: 'longest wait for streams and connections to close before they are cut',
    defaultText: '10s',
  },
];
