import { SseHubError } from '../../errors.js';
import { checkRetry } from '../../protocol/encoder.js';
import type { Update } from '../../transport/types.js';
import { EARLIEST } from './history.js';
import type { PublishInput } from './types.js';

/** The limits publish validation applies (see HubOptions). */
export interface PublishLimits {
  maxTopicsPerRequest: number;
  maxTopicLength: number;
  /** The base relative topics resolve against (the hub's `publicUrl`). */
  publicUrl?: string;
}

const DEFAULT_BASE = 'https://localhost/';

/** An update that passed validation; `id` is still undefined when the hub must generate one. */
export type ValidUpdate = Omit<Update, 'id'> & { id: string | undefined };

/** True when `text` holds a C0 control, DEL or a C1 control: never part of a topic (Mercure). */
export function hasControlCharacter(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x20 || (c >= 0x7f && c <= 0x9f)) return true;
  }
  return false;
}
/**
 * True when `text` holds a C0 control or DEL: never part of an event id, which is also echoed in
 * the Last-Event-ID response header, where these characters are not allowed.
 */
export function hasIdControlCharacter(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) return true;
  }
  return false;
}
// id and event are SSE fields: a line break or NUL would end the field or inject another.
const FIELD_BREAK = /[\r\n\0]/;
const RESERVED_PATH = '/.well-known/mercure';
// Only used to resolve relative topics; any absolute URL would do.
const RESOLVE_BASE = 'http://hub.invalid/';
const DIGITS = /^[0-9]+$/;

/**
 * True when `topic`, resolved as a URL reference, has the path `/.well-known/mercure` or one below
 * it, whatever its scheme or host: those topics belong to the hub (subscription events), and a
 * publisher must not forge them.
 */
export function isReservedTopic(topic: string): boolean {
  if (!topic.includes('.well-known') && !topic.includes('%')) return false;
  let path: string;
  try {
    path = new URL(topic, RESOLVE_BASE).pathname;
  } catch {
    return false;
  }
  try {
    path = decodeURIComponent(path);
  } catch {
    // A malformed escape cannot hide the reserved path any better than no escape.
  }
  return path === RESERVED_PATH || path.startsWith(`${RESERVED_PATH}/`);
}

/** Throws INVALID_TOPIC unless `topic` is a non-empty string without control characters. */
export function checkTopicText(topic: unknown, maxLength: number): string {
  if (typeof topic !== 'string' || topic.length === 0) {
    throw new SseHubError('INVALID_TOPIC', 'a topic must be a non-empty string');
  }
  if (topic.length > maxLength) {
    throw new SseHubError('INVALID_TOPIC', `a topic is longer than ${maxLength} characters`);
  }
  if (hasControlCharacter(topic)) {
    throw new SseHubError('INVALID_TOPIC', 'a topic must not contain control characters');
  }
  return topic;
}

/**
 * Text no URL component percent-encodes (no `@`: in userinfo `:`, `;` and `=` are encoded too;
 * no `'`: encoded in special schemes' queries).
 */
const NEVER_ENCODED = /^[A-Za-z0-9\-._~!$&()*+,;=:/?#%]*$/;

/**
 * How long `topic` is as URL patterns match it: the normalised URL (relative topics resolved
 * against `base`), where a non-ASCII character becomes up to 12 characters (`%F0%9F%98%80`). A
 * topic short in characters can be long for the matcher, and the length limit, which bounds the
 * matching work, must hold for what is matched.
 */
export function matchedTopicLength(topic: string, base: string): number {
  if (NEVER_ENCODED.test(topic)) return topic.length;
  try {
    return Math.max(topic.length, new URL(topic, base).href.length);
  } catch {
    return topic.length; // not a URL: URL patterns never match it
  }
}

/** A topic to publish: checkTopicText, and the length limit also holds percent-encoded. */
function checkPublishTopic(topic: unknown, maxLength: number, base: string): string {
  const text = checkTopicText(topic, maxLength);
  const encoded = matchedTopicLength(text, base);
  if (encoded > maxLength) {
    throw new SseHubError(
      'INVALID_TOPIC',
      `a topic is ${encoded} characters long once percent-encoded (as URL patterns match it); the limit is ${maxLength}`,
    );
  }
  return text;
}

function checkId(id: unknown, maxLength: number): string | undefined {
  if (id === undefined || id === '') return undefined;
  if (typeof id !== 'string') throw new SseHubError('INVALID_ID', 'id must be a string');
  if (id.startsWith('#')) throw new SseHubError('INVALID_ID', 'id must not start with #');
  if (hasIdControlCharacter(id)) {
    throw new SseHubError('INVALID_ID', 'id must not contain control characters');
  }
  if (id === EARLIEST) throw new SseHubError('INVALID_ID', 'earliest is a reserved id');
  if (id.length > maxLength) {
    throw new SseHubError('INVALID_ID', `id is longer than ${maxLength} characters`);
  }
  return id;
}

function checkType(type: unknown): string | undefined {
  if (type === undefined || type === '') return undefined;
  if (typeof type !== 'string') throw new SseHubError('INVALID_TYPE', 'type must be a string');
  if (FIELD_BREAK.test(type)) {
    throw new SseHubError('INVALID_TYPE', 'type must not contain CR, LF or NUL');
  }
  // Reserved: clients of the hub listen for `mercure` events of their own.
  if (type === 'mercure') throw new SseHubError('INVALID_TYPE', 'mercure is a reserved type');
  return type;
}

/**
 * Validates a publish (from HTTP or from server code) and returns the update to store. Throws
 * MISSING_TOPIC, TOO_MANY_TOPICS, INVALID_TOPIC, RESERVED_TOPIC, INVALID_ID, INVALID_TYPE,
 * INVALID_RETRY or INVALID_EVENT.
 */
export function validatePublish(input: PublishInput, limits: PublishLimits): ValidUpdate {
  if (input === null || typeof input !== 'object') {
    throw new SseHubError('INVALID_EVENT', 'an update must be an object');
  }
  const topics = input.topics;
  if (!Array.isArray(topics) || topics.length === 0) throw new SseHubError('MISSING_TOPIC');
  if (topics.length > limits.maxTopicsPerRequest) {
    throw new SseHubError('TOO_MANY_TOPICS', `at most ${limits.maxTopicsPerRequest}`);
  }
  for (const topic of topics) {
    checkPublishTopic(topic, limits.maxTopicLength, limits.publicUrl ?? DEFAULT_BASE);
    if (isReservedTopic(topic)) throw new SseHubError('RESERVED_TOPIC', topic);
  }
  const data = input.data ?? '';
  if (typeof data !== 'string') throw new SseHubError('INVALID_EVENT', 'data must be a string');
  if (input.private !== undefined && typeof input.private !== 'boolean') {
    throw new SseHubError('INVALID_EVENT', 'private must be a boolean');
  }
  const update: ValidUpdate = {
    id: checkId(input.id, limits.maxTopicLength),
    topics: [...topics],
    data,
    private: input.private === true,
  };
  const type = checkType(input.type);
  if (type !== undefined) update.type = type;
  if (input.retry !== undefined) update.retry = checkRetry(input.retry);
  return update;
}

/**
 * Reads a form-encoded publish body (`topic` repeatable, `data`, `private`, `id`, `type`,
 * `retry`). A `private` field marks the update private whatever its value, even empty (as the
 * reference hub does; Mercure clients send `private=on`); empty `id`, `type` and `retry` count as
 * absent, as HTML forms send empty fields.
 */
export function publishInputFromForm(form: URLSearchParams): PublishInput {
  const input: PublishInput = { topics: form.getAll('topic') };
  const data = form.get('data');
  if (data !== null) input.data = data;
  if (form.has('private')) input.private = true;
  const id = form.get('id');
  if (id !== null && id !== '') input.id = id;
  const type = form.get('type');
  if (type !== null && type !== '') input.type = type;
  const retry = form.get('retry');
  if (retry !== null && retry !== '') {
    if (!DIGITS.test(retry)) throw new SseHubError('INVALID_RETRY', 'retry must be digits only');
    const ms = Number(retry);
    if (!Number.isSafeInteger(ms)) throw new SseHubError('INVALID_RETRY', 'retry is too large');
    input.retry = ms;
  }
  return input;
}
