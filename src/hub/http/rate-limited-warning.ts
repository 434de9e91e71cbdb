import type { Logger } from 'pino';

/**
 * A warning that fires at most once per `intervalMs`: the first occurrence is logged at once,
 * later ones within the interval are counted and logged together when it ends. A flood of
 * refused connections then costs one log line a second, not one per connection.
 */
export class RateLimitedWarning {
  readonly #logger: Logger;
  readonly #message: string;
  readonly #fields: Record<string, unknown>;
  readonly #intervalMs: number;
  #pending = 0;
  #timer: NodeJS.Timeout | undefined;

  constructor(
    logger: Logger,
    message: string,
    fields: Record<string, unknown> = {},
    intervalMs = 1_000,
  ) {
    this.#logger = logger;
    this.#message = message;
    this.#fields = fields;
    this.#intervalMs = intervalMs;
  }

  /** Counts one occurrence; `extra` fields go on the next line logged. */
  record(extra: Record<string, unknown> = {}): void {
    this.#pending += 1;
    if (this.#timer) return;
    this.#emit(extra);
  }

  #emit(extra: Record<string, unknown>): void {
    const count = this.#pending;
    this.#pending = 0;
    this.#logger.warn({ ...this.#fields, ...extra, count }, this.#message);
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      if (this.#pending > 0) this.#emit({});
    }, this.#intervalMs);
    this.#timer.unref();
  }
}
