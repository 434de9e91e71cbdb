import type { Logger } from 'pino';
import { SseHubError } from '../../errors.js';
import type { ResolvedHubOptions } from '../options.js';
import { ClientStreams, TOO_MANY_STREAMS_RETRY_AFTER_S } from './client-streams.js';
import { TokenBuckets } from './rate-limit.js';
import { RateLimitedWarning } from './rate-limited-warning.js';

/** The per-client limits, as `HubStats.rateLimited` and the metric's `limit` label name them. */
export type ClientLimitName = 'streams' | 'subscribe' | 'publish';

type LimitOptions = Pick<
  ResolvedHubOptions,
  'maxStreamsPerClient' | 'maxSubscribeRate' | 'subscribeBurst' | 'maxPublishRate' | 'publishBurst'
>;

/**
 * The hub's per-client limits: open streams per subscriber, subscribe attempts a second per
 * address, publishes a second per publisher. Each refusal is counted (`refused`, which the
 * server's metrics follow: the hub itself knows nothing of them) and logged as a warning at most
 * once a second per limit, with the count and the address of the first client refused.
 */
export class ClientLimits {
  readonly #streams: ClientStreams;
  readonly #subscribe: TokenBuckets | undefined;
  readonly #publish: TokenBuckets | undefined;
  readonly #options: LimitOptions;
  readonly #refused: Record<ClientLimitName, number> = { streams: 0, subscribe: 0, publish: 0 };
  readonly #warnings: Record<ClientLimitName, RateLimitedWarning>;

  constructor(options: LimitOptions, logger: Logger) {
    this.#options = options;
    this.#streams = new ClientStreams(options.maxStreamsPerClient);
    this.#subscribe =
      options.maxSubscribeRate > 0
        ? new TokenBuckets(options.maxSubscribeRate, options.subscribeBurst)
        : undefined;
    this.#publish =
      options.maxPublishRate > 0
        ? new TokenBuckets(options.maxPublishRate, options.publishBurst)
        : undefined;
    const warning = (limit: ClientLimitName, fields: Record<string, unknown>) =>
      new RateLimitedWarning(logger, 'per-client limit reached: requests refused', {
        event: 'rate_limited',
        limit,
        ...fields,
      });
    this.#warnings = {
      streams: warning('streams', { maxStreamsPerClient: options.maxStreamsPerClient }),
      subscribe: warning('subscribe', {
        maxSubscribeRate: options.maxSubscribeRate,
        subscribeBurst: options.subscribeBurst,
      }),
      publish: warning('publish', {
        maxPublishRate: options.maxPublishRate,
        publishBurst: options.publishBurst,
      }),
    };
  }

  /** Requests refused so far, per limit. */
  get refused(): Readonly<Record<ClientLimitName, number>> {
    return { ...this.#refused };
  }

  /** Clients holding at least one stream. */
  get streamClients(): number {
    return this.#streams.clients;
  }

  /** Buckets kept by the two rate limits (for tests of the memory bound). */
  get buckets(): { subscribe: number; publish: number } {
    return { subscribe: this.#subscribe?.size ?? 0, publish: this.#publish?.size ?? 0 };
  }

  /** One subscribe attempt from `address`; throws 429 RATE_LIMITED past `maxSubscribeRate`. */
  subscribeAttempt(address: string): void {
    const wait = this.#subscribe?.take(address) ?? 0;
    if (wait === 0) return;
    this.#refuse('subscribe', address);
    throw new SseHubError(
      'RATE_LIMITED',
      `at most ${this.#options.maxSubscribeRate} subscribes a second per address (maxSubscribeRate)`,
      { retryAfterS: wait },
    );
  }

  /** One publish by publisher `key`; throws 429 RATE_LIMITED past `maxPublishRate`. */
  publishAttempt(key: string, address: string): void {
    const wait = this.#publish?.take(key) ?? 0;
    if (wait === 0) return;
    this.#refuse('publish', address);
    throw new SseHubError(
      'RATE_LIMITED',
      `at most ${this.#options.maxPublishRate} publishes a second per publisher (maxPublishRate)`,
      { retryAfterS: wait },
    );
  }

  /**
   * Takes a stream slot for client `key`: returns the function that gives it back (idempotent),
   * or throws 429 TOO_MANY_STREAMS past `maxStreamsPerClient`.
   */
  acquireStream(key: string, address: string): () => void {
    const release = this.#streams.acquire(key);
    if (release !== undefined) return release;
    this.#refuse('streams', address);
    throw new SseHubError(
      'TOO_MANY_STREAMS',
      `at most ${this.#options.maxStreamsPerClient} per client (maxStreamsPerClient)`,
      { retryAfterS: TOO_MANY_STREAMS_RETRY_AFTER_S },
    );
  }

  #refuse(limit: ClientLimitName, address: string): void {
    this.#refused[limit] += 1;
    this.#warnings[limit].record({ address });
  }
}
