import { randomUUID } from 'node:crypto';
import { isSseHubError } from '../../errors.js';
import type { PublishInput } from '../../hub/types.js';
import type { EventFields } from '../../protocol/types.js';

/** Topic of the demo clock's `currentTime` updates. Public: anyone may subscribe. */
export const DEMO_TOPIC = 'https://ssehub.local/demo/time';
/** Prefix of the one-off topics that carry each page view's hello. */
export const DEMO_HELLO_TOPIC_PREFIX = 'https://ssehub.local/demo/hello/';

/** How the demo reaches a hub. */
export interface DemoHubOptions {
  /** Publishes as trusted server code (`hub.publish`), no token involved. */
  publish: (input: PublishInput) => Promise<string>;
  /** URL or absolute path of the hub the page subscribes through, e.g. `/.well-known/mercure`. */
  hubUrl: string;
  /** Topic of the clock. Default {@link DEMO_TOPIC}. */
  topic?: string;
  /** Told about failed publishes (a full disk, say); the clock keeps going. */
  onError?: (err: unknown) => void;
}

/**
 * Feeds the demo clock into a hub: every tick becomes a public `currentTime` update on the demo
 * topic. A page view gets its hello the Mercure way: the hello is published to a topic of its
 * own, and the page subscribes to that topic and the clock's with `lastEventID` set to the
 * newest tick, so the hub's history replay hands it the hello and then live updates follow.
 */
export class HubFeed {
  readonly topic: string;
  readonly #options: DemoHubOptions;
  #lastTickId: string | undefined;
  readonly #first: Promise<void>;

  constructor(options: DemoHubOptions) {
    this.#options = options;
    this.topic = options.topic ?? DEMO_TOPIC;
    // Publish the first tick at once: a page view needs a recent id to resume from, or it would
    // replay the clock's whole history.
    this.#first = this.#publishTick(new Date().toISOString());
  }

  /** Publishes one clock event (its data) to the hub. */
  tick(event: EventFields): void {
    if (event.data !== undefined) void this.#publishTick(event.data);
  }

  /** The stream URL of the page that shows the view, its hello already published. */
  async pageStreamUrl(hello: string): Promise<string> {
    await this.#first;
    const since = this.#lastTickId;
    const helloTopic = `${DEMO_HELLO_TOPIC_PREFIX}${randomUUID()}`;
    await this.#options.publish({ topics: [helloTopic], data: hello });
    const params = new URLSearchParams();
    params.append('topic', this.topic);
    params.append('topic', helloTopic);
    params.set('lastEventID', since ?? 'earliest');
    return `${this.#options.hubUrl}?${params}`;
  }

  /** The stream URL without a hello (for HEAD requests, which must not publish). */
  plainStreamUrl(): string {
    return `${this.#options.hubUrl}?${new URLSearchParams({ topic: this.topic })}`;
  }

  async #publishTick(data: string): Promise<void> {
    try {
      this.#lastTickId = await this.#options.publish({
        topics: [this.topic],
        type: 'currentTime',
        data,
      });
    } catch (err) {
      // During shutdown the hub refuses new updates; that is expected, not worth a log line.
      if (!isSseHubError(err, 'SHUTTING_DOWN')) this.#options.onError?.(err);
    }
  }
}
