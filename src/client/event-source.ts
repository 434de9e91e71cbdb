import { CLOSED, ClientEngine, CONNECTING, OPEN, type ReadyState } from './engine.js';
import { HistoryLostEvent, OpenEvent, ReconnectingEvent, SseErrorEvent } from './events.js';
import { resolveClientOptions } from './options.js';
import type { ClientOptions } from './types.js';
import { resolveUrl } from './url.js';

/** The events an EventSource fires besides the server's own named events. */
export interface EventSourceEventMap {
  open: OpenEvent;
  message: MessageEvent<string>;
  error: SseErrorEvent;
  'history-lost': HistoryLostEvent;
  reconnecting: ReconnectingEvent;
}

type Handler<E> = ((this: EventSource, ev: E) => unknown) | null;
type ListenerOptions = boolean | AddEventListenerOptions;

/**
 * A drop-in for the standard `EventSource` (same constructor, readyState, handlers and events),
 * with the options of ClientOptions on top: headers, method, body, back-off, resume, heartbeat
 * timeout. Server events arrive as `MessageEvent`s with `data`, `lastEventId` and `origin`.
 */
export class EventSource extends EventTarget {
  static readonly CONNECTING = CONNECTING;
  static readonly OPEN = OPEN;
  static readonly CLOSED = CLOSED;
  readonly CONNECTING = CONNECTING;
  readonly OPEN = OPEN;
  readonly CLOSED = CLOSED;

  /** The absolute URL of the stream. */
  readonly url: string;
  readonly withCredentials: boolean;
  readonly #engine: ClientEngine;
  readonly #attributes = new Map<string, ((ev: Event) => unknown) | null>();

  constructor(url: string | URL, init: ClientOptions = {}) {
    super();
    this.url = resolveUrl(url);
    const options = resolveClientOptions(init);
    this.withCredentials = options.withCredentials;
    this.#engine = new ClientEngine(this.url, options, {
      open: (info) => this.dispatchEvent(new OpenEvent(info)),
      event: (e) =>
        this.dispatchEvent(
          new MessageEvent(e.type, { data: e.data, lastEventId: e.lastEventId, origin: e.origin }),
        ),
      historyLost: (info) => this.dispatchEvent(new HistoryLostEvent(info)),
      error: (error) => this.dispatchEvent(new SseErrorEvent(error)),
      reconnecting: (info) => this.dispatchEvent(new ReconnectingEvent(info)),
      end: (error) => this.dispatchEvent(new SseErrorEvent(error)),
    });
    this.#engine.start();
  }

  get readyState(): ReadyState {
    return this.#engine.readyState;
  }

  /** The id the next reconnect sends as Last-Event-ID (not part of the standard API). */
  get lastEventId(): string {
    return this.#engine.lastEventId;
  }

  /** Closes the connection for good; no event fires afterwards. */
  close(): void {
    this.#engine.close();
  }

  get onopen(): Handler<OpenEvent> {
    return this.#getAttribute('open') as Handler<OpenEvent>;
  }
  set onopen(handler: Handler<OpenEvent>) {
    this.#setAttribute('open', handler as Handler<Event>);
  }
  get onmessage(): Handler<MessageEvent<string>> {
    return this.#getAttribute('message') as Handler<MessageEvent<string>>;
  }
  set onmessage(handler: Handler<MessageEvent<string>>) {
    this.#setAttribute('message', handler as Handler<Event>);
  }
  get onerror(): Handler<SseErrorEvent> {
    return this.#getAttribute('error') as Handler<SseErrorEvent>;
  }
  set onerror(handler: Handler<SseErrorEvent>) {
    this.#setAttribute('error', handler as Handler<Event>);
  }

  override addEventListener<K extends keyof EventSourceEventMap>(
    type: K,
    listener: (this: EventSource, ev: EventSourceEventMap[K]) => unknown,
    options?: ListenerOptions,
  ): void;
  override addEventListener(
    type: string,
    listener: (this: EventSource, ev: MessageEvent<string>) => unknown,
    options?: ListenerOptions,
  ): void;
  override addEventListener(
    type: string,
    listener: EventListenerOrEventListenerObject | null,
    options?: ListenerOptions,
  ): void;
  override addEventListener(
    type: string,
    listener: EventListenerOrEventListenerObject | ((ev: never) => unknown) | null,
    options?: ListenerOptions,
  ): void {
    super.addEventListener(type, listener as EventListenerOrEventListenerObject | null, options);
  }

  override removeEventListener<K extends keyof EventSourceEventMap>(
    type: K,
    listener: (this: EventSource, ev: EventSourceEventMap[K]) => unknown,
    options?: boolean | EventListenerOptions,
  ): void;
  override removeEventListener(
    type: string,
    listener: (this: EventSource, ev: MessageEvent<string>) => unknown,
    options?: boolean | EventListenerOptions,
  ): void;
  override removeEventListener(
    type: string,
    listener: EventListenerOrEventListenerObject | null,
    options?: boolean | EventListenerOptions,
  ): void;
  override removeEventListener(
    type: string,
    listener: EventListenerOrEventListenerObject | ((ev: never) => unknown) | null,
    options?: boolean | EventListenerOptions,
  ): void {
    super.removeEventListener(type, listener as EventListenerOrEventListenerObject | null, options);
  }

  #getAttribute(type: string): Handler<Event> {
    return (this.#attributes.get(type) ?? null) as Handler<Event>;
  }

  // As with DOM event handler attributes, the listener takes its place in the order when a
  // handler is first set, and later assignments just swap the function.
  #setAttribute(type: string, handler: Handler<Event>): void {
    if (!this.#attributes.has(type)) {
      super.addEventListener(type, (ev) => {
        const current = this.#attributes.get(type);
        if (typeof current === 'function') current.call(this, ev);
      });
    }
    this.#attributes.set(
      type,
      typeof handler === 'function' ? (handler as (ev: Event) => unknown) : null,
    );
  }
}
