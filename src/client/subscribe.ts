import { SseHubError } from '../errors.js';
import { ClientEngine, type ReadyState } from './engine.js';
import { resolveClientOptions } from './options.js';
import type { ClientOptions, HistoryLostInfo, OpenInfo, ReconnectInfo, SseEvent } from './types.js';
import { resolveUrl } from './url.js';

/** Options of `subscribe()`: the client options plus an abort signal and observation hooks. */
export interface SubscribeOptions extends ClientOptions {
  /** Aborting ends the iteration cleanly (the loop just finishes) and closes the connection. */
  signal?: AbortSignal;
  onOpen?(info: OpenInfo): void;
  onHistoryLost?(info: HistoryLostInfo): void;
  /** A failure that will be retried; fatal ones are thrown by the iterator instead. */
  onError?(error: SseHubError): void;
  onReconnecting?(info: ReconnectInfo): void;
  /**
   * Events buffered for a slow loop before reading from the network pauses. Default 1000: the
   * socket's own flow control then holds the rest, so a slow consumer cannot grow memory
   * without bound.
   */
  maxQueuedEvents?: number;
}

/** The iterator `subscribe()` returns; `break` in a `for await` loop closes it. */
export interface Subscription extends AsyncIterableIterator<SseEvent> {
  readonly readyState: ReadyState;
  /** The id a reconnect (or a later `subscribe` with `lastEventId`) resumes from. */
  readonly lastEventId: string;
  /** Ends the iteration and closes the connection. */
  close(): void;
}

export const DEFAULT_MAX_QUEUED_EVENTS = 1000;

type Result = IteratorResult<SseEvent, undefined>;

class EventSubscription implements Subscription {
  readonly #engine: ClientEngine;
  readonly #max: number;
  readonly #signal: AbortSignal | undefined;
  readonly #onAbort = (): void => this.#stop(true);
  #queue: SseEvent[] = [];
  #started = false;
  #done = false;
  #failure: { error: unknown } | undefined;
  #consumers: (() => void)[] = [];
  #producer: (() => void) | undefined;

  constructor(url: string | URL, options: SubscribeOptions) {
    const max = options.maxQueuedEvents ?? DEFAULT_MAX_QUEUED_EVENTS;
    if (!Number.isSafeInteger(max) || max < 1) {
      throw new SseHubError('INVALID_OPTION', 'maxQueuedEvents must be a positive integer');
    }
    this.#max = max;
    // A throwing hook ends the iteration with its error rather than breaking the engine.
    const hook =
      <T>(fn: ((arg: T) => void) | undefined) =>
      (arg: T): void => {
        if (!fn) return;
        try {
          fn(arg);
        } catch (error) {
          this.#fail(error);
        }
      };
    this.#engine = new ClientEngine(resolveUrl(url), resolveClientOptions(options), {
      open: hook(options.onOpen),
      historyLost: hook(options.onHistoryLost),
      error: hook(options.onError),
      reconnecting: hook(options.onReconnecting),
      event: (event) => {
        this.#queue.push(event);
        this.#wakeConsumers();
      },
      end: (error) => (error ? this.#fail(error) : this.#stop(false)),
      ready: () =>
        this.#queue.length < this.#max
          ? undefined
          : new Promise<void>((resolve) => {
              this.#producer = resolve;
            }),
    });
    this.#signal = options.signal;
    if (this.#signal?.aborted) this.#done = true;
    else this.#signal?.addEventListener('abort', this.#onAbort, { once: true });
  }

  get readyState(): ReadyState {
    return this.#engine.readyState;
  }

  get lastEventId(): string {
    return this.#engine.lastEventId;
  }

  async next(): Promise<Result> {
    // Connect lazily: an iterator that is never read never opens a connection.
    if (!this.#started && !this.#done) {
      this.#started = true;
      this.#engine.start();
    }
    for (;;) {
      const event = this.#queue.shift();
      if (event) {
        if (this.#queue.length < this.#max) this.#releaseProducer();
        return { value: event, done: false };
      }
      if (this.#done) {
        const failure = this.#failure;
        this.#failure = undefined;
        if (failure) throw failure.error;
        return { value: undefined, done: true };
      }
      await new Promise<void>((resolve) => this.#consumers.push(resolve));
    }
  }

  async return(): Promise<Result> {
    this.#stop(true);
    return { value: undefined, done: true };
  }

  close(): void {
    this.#stop(true);
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  #fail(error: unknown): void {
    if (this.#done) return;
    this.#failure = { error };
    this.#stop(false);
  }

  #stop(dropQueued: boolean): void {
    this.#done = true;
    this.#engine.close();
    this.#signal?.removeEventListener('abort', this.#onAbort);
    if (dropQueued) this.#queue = [];
    this.#releaseProducer();
    this.#wakeConsumers();
  }

  #releaseProducer(): void {
    const producer = this.#producer;
    this.#producer = undefined;
    producer?.();
  }

  #wakeConsumers(): void {
    const consumers = this.#consumers;
    this.#consumers = [];
    for (const wake of consumers) wake();
  }
}

/**
 * Streams events as an async iterator: `for await (const event of subscribe(url, options))`.
 * Reconnects like EventSource does (with ClientOptions' back-off and resume); ends cleanly on
 * `signal` abort, `break`, or a 204 answer; throws SseHubError on a fatal failure (an HTTP error
 * that will not heal, a wrong content type, or `retryDelay` returning null).
 */
export function subscribe(url: string | URL, options: SubscribeOptions = {}): Subscription {
  return new EventSubscription(url, options);
}
