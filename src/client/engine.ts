import { isSseHubError, SseHubError } from '../errors.js';
import { EventStreamParser } from '../protocol/parser.js';
import { defaultRetryDelay, parseRetryAfter } from './backoff.js';
import { fromHeaderValue, toHeaderValue } from './header-text.js';
import { readLimitedText, SseHubHttpError } from './http-error.js';
import type { ResolvedClientOptions } from './options.js';
import type { HistoryLostInfo, OpenInfo, ReconnectInfo, SseEvent } from './types.js';
import { isEventStream, originOf } from './url.js';
import { watchVisibility } from './visibility.js';

export const CONNECTING = 0;
export const OPEN = 1;
export const CLOSED = 2;
export type ReadyState = typeof CONNECTING | typeof OPEN | typeof CLOSED;

/** What the engine reports; the two public APIs are thin layers over these calls. */
export interface EngineHandlers {
  open(info: OpenInfo): void;
  event(event: SseEvent): void;
  historyLost(info: HistoryLostInfo): void;
  /** A failure that will be retried (readyState is CONNECTING again). */
  error(error: SseHubError): void;
  reconnecting(info: ReconnectInfo): void;
  /**
   * Stopped for good, by the server or a fatal error, never by close(). `error` is undefined
   * when the server answered 204 (its way of saying "do not reconnect").
   */
  end(error: SseHubError | undefined): void;
  /** Asked before each read; a returned promise pauses reading (back-pressure) until it settles. */
  ready?(): Promise<void> | undefined;
}

type Outcome =
  | { kind: 'retry'; error: SseHubError; status?: number; retryAfterMs?: number }
  | { kind: 'end'; error: SseHubError | undefined }
  // The attempt was cut short by close() or pause(); the loop decides what comes next.
  | { kind: 'superseded' };

interface Attempt {
  controller: AbortController;
  timedOut: boolean;
  readingPaused: boolean;
  lastByteAt: number;
  timer: ReturnType<typeof setTimeout> | undefined;
}

const now = (): number => globalThis.performance?.now() ?? Date.now();

/**
 * One logical event stream over many HTTP connections: fetch, parse, reconnect with back-off,
 * resume with Last-Event-ID, detect silence and lost history.
 */
export class ClientEngine {
  readonly url: string;
  readonly #o: ResolvedClientOptions;
  readonly #h: EngineHandlers;
  readonly #parser: EventStreamParser;
  #state: ReadyState = CONNECTING;
  #started = false;
  #paused = false;
  #failures = 0;
  #baseMs: number;
  #origin: string;
  #attempt: Attempt | undefined;
  #wake: (() => void) | undefined;
  #unwatch: (() => void) | undefined;

  constructor(url: string, options: ResolvedClientOptions, handlers: EngineHandlers) {
    this.url = url;
    this.#o = options;
    this.#h = handlers;
    this.#baseMs = options.initialDelayMs;
    this.#origin = originOf(url);
    this.#parser = new EventStreamParser(
      {
        onEvent: (e) => {
          // close() inside a handler must silence the rest of the chunk.
          if (this.#state !== OPEN) return;
          this.#h.event({
            type: e.type,
            data: e.data,
            lastEventId: e.lastEventId,
            origin: this.#origin,
          });
        },
        onRetry: (ms) => {
          this.#baseMs = ms;
        },
      },
      { maxEventSize: options.maxEventSize, lastEventId: options.lastEventId },
    );
  }

  get readyState(): ReadyState {
    return this.#state;
  }

  /** The id a reconnect would send as Last-Event-ID. */
  get lastEventId(): string {
    return this.#parser.lastEventId;
  }

  start(): void {
    if (this.#started || this.#state === CLOSED) return;
    this.#started = true;
    if (this.#o.pauseWhenHidden) {
      const watch = watchVisibility((hidden) => (hidden ? this.pause() : this.resume()));
      if (watch) {
        this.#unwatch = watch.stop;
        this.#paused = watch.hidden;
      }
    }
    void this.#loop();
  }

  /** Stops for good; no handler is called afterwards. */
  close(): void {
    if (this.#state === CLOSED) return;
    this.#state = CLOSED;
    this.#stopAttempt();
    this.#unwatch?.();
    this.#wake?.();
  }

  /** Drops the connection until resume(), which reconnects at once with Last-Event-ID. */
  pause(): void {
    if (this.#state === CLOSED || this.#paused) return;
    this.#paused = true;
    this.#state = CONNECTING;
    this.#stopAttempt();
    this.#wake?.();
  }

  resume(): void {
    if (this.#state === CLOSED || !this.#paused) return;
    this.#paused = false;
    this.#failures = 0;
    this.#wake?.();
  }

  #stopAttempt(): void {
    const attempt = this.#attempt;
    this.#attempt = undefined;
    if (attempt) attempt.controller.abort(new SseHubError('ABORTED'));
  }

  // A method, not a field read, so TypeScript does not narrow the state across handler calls.
  #closed(): boolean {
    return this.#state === CLOSED;
  }

  #current(attempt: Attempt): boolean {
    return this.#attempt === attempt && this.#state !== CLOSED;
  }

  async #loop(): Promise<void> {
    try {
      while (this.#state !== CLOSED) {
        if (this.#paused) {
          await this.#sleep(undefined);
          continue;
        }
        const outcome = await this.#connect();
        if (this.#closed()) return;
        if (outcome.kind === 'superseded') continue;
        if (outcome.kind === 'end') return this.#finish(outcome.error);
        const attempt = this.#failures;
        const delayMs = this.#chooseDelay(attempt, outcome);
        if (delayMs === null) return this.#finish(outcome.error);
        this.#failures++;
        this.#state = CONNECTING;
        this.#h.error(outcome.error);
        if (this.#closed()) return;
        this.#h.reconnecting({ attempt, delayMs, error: outcome.error });
        if (this.#closed()) return;
        await this.#sleep(delayMs);
      }
    } catch (err) {
      if (this.#state === CLOSED) return;
      this.#finish(
        isSseHubError(err)
          ? err
          : new SseHubError('INVALID_OPTION', 'a client hook threw', { cause: err }),
      );
    }
  }

  #finish(error: SseHubError | undefined): void {
    this.#state = CLOSED;
    this.#stopAttempt();
    this.#unwatch?.();
    this.#h.end(error);
  }

  #chooseDelay(
    attempt: number,
    outcome: { error: SseHubError; status?: number; retryAfterMs?: number },
  ): number | null {
    const o = this.#o;
    const retryAfterMs =
      outcome.retryAfterMs === undefined
        ? undefined
        : Math.min(outcome.retryAfterMs, o.maxRetryAfterMs);
    const defaultDelayMs = defaultRetryDelay(
      attempt,
      this.#baseMs,
      o.maxDelayMs,
      o.random,
      retryAfterMs,
    );
    if (!o.retryDelay) return defaultDelayMs;
    const chosen = o.retryDelay(attempt, {
      error: outcome.error,
      status: outcome.status,
      retryAfterMs,
      baseMs: this.#baseMs,
      maxMs: o.maxDelayMs,
      defaultDelayMs,
    });
    if (chosen === null) return null;
    if (typeof chosen !== 'number' || !Number.isFinite(chosen) || chosen < 0) {
      throw new SseHubError('INVALID_OPTION', 'retryDelay must return a number >= 0 or null');
    }
    return chosen;
  }

  /** Waits `ms` (undefined: until woken); close(), pause() and resume() wake it early. */
  #sleep(ms: number | undefined): Promise<void> {
    return new Promise((resolve) => {
      let settled = false;
      let cancel: (() => void) | undefined;
      const done = (): void => {
        if (settled) return;
        settled = true;
        if (this.#wake === done) this.#wake = undefined;
        cancel?.();
        resolve();
      };
      this.#wake = done;
      if (ms !== undefined) {
        cancel = this.#o.schedule(done, ms);
        // A scheduler may run the callback synchronously.
        if (settled) cancel();
      }
    });
  }

  async #connect(): Promise<Outcome> {
    const o = this.#o;
    const attempt: Attempt = {
      controller: new AbortController(),
      timedOut: false,
      readingPaused: false,
      lastByteAt: now(),
      timer: undefined,
    };
    this.#attempt = attempt;
    const requested = this.#parser.lastEventId;
    try {
      const headers = new Headers(typeof o.headers === 'function' ? o.headers() : o.headers);
      if (!headers.has('accept')) headers.set('Accept', 'text/event-stream');
      if (requested !== '') headers.set('Last-Event-ID', toHeaderValue(requested));
      this.#watchSilence(attempt);
      const response = await o.fetch(this.url, {
        method: o.method,
        headers,
        // ReplayableBody is a subset of BodyInit; TS's typed-array generics just cannot see it.
        body: o.body as BodyInit | undefined,
        credentials: o.withCredentials ? 'include' : 'same-origin',
        cache: 'no-store',
        redirect: 'follow',
        signal: attempt.controller.signal,
      });
      if (!this.#current(attempt)) {
        response.body?.cancel().catch(() => {});
        return { kind: 'superseded' };
      }
      return await this.#handleResponse(attempt, response, requested);
    } catch (err) {
      if (!this.#current(attempt)) return { kind: 'superseded' };
      if (attempt.timedOut) {
        return {
          kind: 'retry',
          error: new SseHubError('HEARTBEAT_TIMEOUT', `${o.heartbeatTimeoutMs} ms`),
        };
      }
      if (isSseHubError(err, 'LINE_TOO_LONG')) return { kind: 'end', error: err };
      const error = isSseHubError(err)
        ? err
        : new SseHubError('CONNECTION_LOST', err instanceof Error ? err.message : String(err), {
            cause: err,
          });
      return { kind: 'retry', error };
    } finally {
      if (attempt.timer !== undefined) clearTimeout(attempt.timer);
      attempt.timer = undefined;
      // Frees the socket of a body we did not read to the end.
      attempt.controller.abort(new SseHubError('ABORTED'));
      if (this.#attempt === attempt) this.#attempt = undefined;
      // An event cut off by the drop is discarded, never half-delivered.
      this.#parser.end();
    }
  }

  async #handleResponse(attempt: Attempt, response: Response, requested: string): Promise<Outcome> {
    const o = this.#o;
    const status = response.status;
    if (status === 204) {
      response.body?.cancel().catch(() => {});
      return { kind: 'end', error: undefined };
    }
    if (status !== 200) {
      const text = await readLimitedText(response, o.maxErrorBodyBytes);
      if (!this.#current(attempt)) return { kind: 'superseded' };
      const error = new SseHubHttpError(status, text, response.headers);
      // 408 and 429 are about timing, 5xx about the server: worth another try. Other 4xx will
      // only fail again.
      if (status === 408 || status === 429 || status >= 500) {
        const retryAfterMs =
          status === 429 || status === 503
            ? parseRetryAfter(response.headers.get('retry-after'), Date.now())
            : undefined;
        return { kind: 'retry', error, status, retryAfterMs };
      }
      return { kind: 'end', error };
    }
    const contentType = response.headers.get('content-type');
    if (!isEventStream(contentType)) {
      response.body?.cancel().catch(() => {});
      return { kind: 'end', error: new SseHubError('INVALID_CONTENT_TYPE', contentType ?? 'none') };
    }
    if (!response.body) {
      return { kind: 'retry', error: new SseHubError('CONNECTION_LOST', 'response has no body') };
    }
    this.#failures = 0;
    this.#state = OPEN;
    const url = response.url || this.url;
    this.#origin = originOf(url);
    this.#h.open({ status, headers: response.headers, url, requestedLastEventId: requested });
    if (!this.#current(attempt)) return { kind: 'superseded' };
    if (requested !== '') {
      // Draft 08 names it Mercure-Last-Event-ID; draft 07 hubs answer with Last-Event-ID.
      const header =
        response.headers.get('mercure-last-event-id') ?? response.headers.get('last-event-id');
      const returned = header === null ? null : fromHeaderValue(header);
      if (returned !== null && returned !== requested) {
        this.#h.historyLost({ requested, returned });
        if (!this.#current(attempt)) return { kind: 'superseded' };
      }
    }
    return this.#read(attempt, response.body);
  }

  async #read(attempt: Attempt, body: ReadableStream<Uint8Array>): Promise<Outcome> {
    const reader = body.getReader();
    try {
      for (;;) {
        const wait = this.#h.ready?.();
        if (wait) {
          // A slow consumer is not a silent server: the silence clock stops while we wait.
          attempt.readingPaused = true;
          await wait;
          attempt.readingPaused = false;
          attempt.lastByteAt = now();
          if (!this.#current(attempt)) return { kind: 'superseded' };
        }
        const { done, value } = await reader.read();
        if (!this.#current(attempt)) return { kind: 'superseded' };
        if (done) break;
        attempt.lastByteAt = now();
        this.#parser.feed(value);
        if (!this.#current(attempt)) return { kind: 'superseded' };
      }
    } finally {
      reader.cancel().catch(() => {});
    }
    return {
      kind: 'retry',
      error: new SseHubError('CONNECTION_LOST', 'the server ended the stream'),
    };
  }

  /** Aborts the attempt when no byte arrives for heartbeatTimeoutMs (headers included). */
  #watchSilence(attempt: Attempt): void {
    const limit = this.#o.heartbeatTimeoutMs;
    if (limit <= 0) return;
    // One timer per attempt that re-arms for the remaining time, instead of one per chunk.
    const check = (): void => {
      if (this.#attempt !== attempt) return;
      const idle = attempt.readingPaused ? 0 : now() - attempt.lastByteAt;
      if (idle >= limit) {
        attempt.timedOut = true;
        attempt.controller.abort(new SseHubError('HEARTBEAT_TIMEOUT'));
        return;
      }
      attempt.timer = setTimeout(check, Math.max(1, limit - idle));
    };
    attempt.timer = setTimeout(check, limit);
  }
}
