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
  /** The hub's path: its subtree is reserved (default `/.well-known/mercure`). */
  path?: string;
}

const DEFAULT_BASE = 'https://localhost/';

/** An update that passed validation; `id` is still undefined when the hub must generate one. */
export type ValidUpdate = Omit<Update, 'id'> & { id: string | undefined };

/**
 * C0 controls, DEL, C1 controls and Unicode format characters (general category Cf: soft hyphen,
 * zero-width and bidirectional controls, BOM, tag characters): none may appear in a topic, a
 * matcher, an id or a type (Mercure, Terminology and Publication). Cf characters are invisible, so
 * two topics or ids that look alike could differ, and bidi controls reorder what an operator
 * reads in a log. Node's ICU may know an older Unicode than the spec pins (17.0): a character
 * that became Cf later passes, which the spec allows ("MAY also reject").
 */
const FORMAT_CHARACTER = /\p{Cf}/u;

/** True when `text` holds a C0 or C1 control, DEL or a format (Cf) character. */
export function hasControlCharacter(text: string): boolean {
  // The code-unit loop settles the controls; the Cf regex only runs when a character could be one
  // (the first is U+00AD), so an ASCII topic or id costs one pass.
  let mayBeFormat = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x20 || (c >= 0x7f && c <= 0x9f)) return true;
    if (c >= 0xad) mayBeFormat = true;
  }
  return mayBeFormat && FORMAT_CHARACTER.test(text);
}
/**
 * Same rule as topics (an id also travels in the `Last-Event-ID` header, where C0 controls and
 * DEL are not allowed, and ids are compared byte for byte, so an invisible character would make
 * two ids that look the same).
 */
export const hasIdControlCharacter = hasControlCharacter;
/** The default hub path, reserved when no other is given (`isReservedTopic` used on its own). */
const DEFAULT_RESERVED_PATHS: readonly string[] = ['/.well-known/mercure'];
// Only used to resolve relative topics; any absolute URL would do.
const RESOLVE_BASE = 'http://hub.invalid/';
const DIGITS = /^[0-9]+$/;

/**
 * The paths whose subtree a hub keeps for itself: its own path (where its subscription events
 * live) and the path of its public URL when that differs (a proxy that rewrites the path: the
 * spec's rule names the hub URL). A hub at `/` would by the letter reserve only `/` (the rule is
 * "that path followed by `/`"), which would leave its subscription events (`/subscriptions/…`)
 * open to forgery; that subtree is reserved too.
 */
export function reservedPaths(hubPath: string, publicUrl?: string): readonly string[] {
  const paths = new Set([hubPath === '' ? '/' : hubPath]);
  if (publicUrl !== undefined) {
    try {
      const path = new URL(publicUrl).pathname;
      paths.add(path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path);
    } catch {
      // Validated by resolveHubOptions; a caller's bad URL reserves nothing more.
    }
  }
  if (paths.has('/')) paths.add('/subscriptions');
  return [...paths];
}

// One hub's limits are the same object on every publish: its reserved paths are made once.
const reservedCache = new WeakMap<PublishLimits, readonly string[]>();
function reservedOf(limits: PublishLimits): readonly string[] {
  if (limits.path === undefined) return DEFAULT_RESERVED_PATHS;
  let paths = reservedCache.get(limits);
  if (paths === undefined) {
    paths = reservedPaths(limits.path, limits.publicUrl);
    reservedCache.set(limits, paths);
  }
  return paths;
}

/** The last non-empty segment of each path: text a reserved topic must contain, unescaped or not. */
function markers(paths: readonly string[]): string[] {
  return paths.map((p) => p.slice(p.lastIndexOf('/') + 1));
}

/**
 * True when `topic`, resolved as a URL reference against `hubUrl`, has one of `paths` (default: the default hub
 * path) or a path below one, whatever its scheme or host: those topics belong to the hub
 * (subscription events), and a publisher must not forge them. Dot-segments are removed (by the
 * URL parser) and escapes decoded before the comparison, so `/.well-known/%6Dercure` is caught.
 */
export function isReservedTopic(
  topic: string,
  paths: readonly string[] = DEFAULT_RESERVED_PATHS,
  hubUrl: string = RESOLVE_BASE,
): boolean {
  // Cheap exit for most topics: one naming none of the paths' last segments, with no escape.
  if (!topic.includes('%') && !markers(paths).some((m) => m === '' || topic.includes(m))) {
    return false;
  }
  let path: string;
  try {
    // A relative topic is resolved against the hub URL, as the spec says: `mercure/x` against
    // `https://h/.well-known/mercure` is `/.well-known/mercure/x`.
    path = new URL(topic, hubUrl).pathname;
  } catch {
    return false;
  }
  try {
    path = decodeURIComponent(path);
  } catch {
    // A malformed escape cannot hide the reserved path any better than no escape.
  }
  return paths.some((p) => (p === '/' ? path === '/' : path === p || path.startsWith(`${p}/`)));
}

const CHARACTER_RULE = 'must not contain control characters or format characters (Cf)';

/**
 * Throws unless `topic` is a non-empty string within `maxLength` without control or format
 * characters. Too long is INVALID_TOPIC (400) by default, as subscribe requires; publish passes
 * FIELD_TOO_LARGE (413).
 */
export function checkTopicText(
  topic: unknown,
  maxLength: number,
  tooLong: 'INVALID_TOPIC' | 'FIELD_TOO_LARGE' = 'INVALID_TOPIC',
): string {
  if (typeof topic !== 'string' || topic.length === 0) {
    throw new SseHubError('INVALID_TOPIC', 'a topic must be a non-empty string');
  }
  if (topic.length > maxLength) {
    throw new SseHubError(tooLong, `a topic is longer than ${maxLength} characters`);
  }
  if (hasControlCharacter(topic)) {
    throw new SseHubError('INVALID_TOPIC', `a topic ${CHARACTER_RULE}`);
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
  const text = checkTopicText(topic, maxLength, 'FIELD_TOO_LARGE');
  // `*` is the wildcard of every matcher type: as a topic it could not be told apart from it.
  if (text === '*') {
    throw new SseHubError('RESERVED_TOPIC', "* is the topic matchers' wildcard, not a topic");
  }
  const encoded = matchedTopicLength(text, base);
  if (encoded > maxLength) {
    throw new SseHubError(
      'FIELD_TOO_LARGE',
      `a topic is ${encoded} characters long once percent-encoded (as URL patterns match it); the limit is ${maxLength}`,
    );
  }
  return text;
}

function checkId(id: unknown, maxLength: number): string | undefined {
  if (id === undefined || id === '') return undefined;
  if (typeof id !== 'string') throw new SseHubError('INVALID_ID', 'id must be a string');
  if (id.length > maxLength) {
    throw new SseHubError('FIELD_TOO_LARGE', `id is longer than ${maxLength} characters`);
  }
  if (id.startsWith('#')) throw new SseHubError('INVALID_ID', 'id must not start with #');
  if (hasIdControlCharacter(id)) throw new SseHubError('INVALID_ID', `id ${CHARACTER_RULE}`);
  if (id === EARLIEST) throw new SseHubError('INVALID_ID', 'earliest is a reserved id');
  return id;
}

function checkType(type: unknown, maxLength: number): string | undefined {
  if (type === undefined || type === '') return undefined;
  if (typeof type !== 'string') throw new SseHubError('INVALID_TYPE', 'type must be a string');
  if (type.length > maxLength) {
    throw new SseHubError('FIELD_TOO_LARGE', `type is longer than ${maxLength} characters`);
  }
  // Also keeps CR, LF and NUL out of the SSE `event:` field, where they would end the field.
  if (hasControlCharacter(type)) throw new SseHubError('INVALID_TYPE', `type ${CHARACTER_RULE}`);
  // Reserved: clients of the hub listen for `mercure` events of their own.
  if (type === 'mercure') throw new SseHubError('INVALID_TYPE', 'mercure is a reserved type');
  return type;
}

/**
 * Validates a publish (from HTTP or from server code) and returns the update to store. Throws
 * MISSING_TOPIC, INVALID_TOPIC, RESERVED_TOPIC, INVALID_ID, INVALID_TYPE, INVALID_RETRY or
 * INVALID_EVENT (400), and TOO_MANY_UPDATE_TOPICS or FIELD_TOO_LARGE (413: the spec answers a
 * publish over an implementation limit with 413 "Content Too Large", a subscribe with 400).
 */
export function validatePublish(input: PublishInput, limits: PublishLimits): ValidUpdate {
  if (input === null || typeof input !== 'object') {
    throw new SseHubError('INVALID_EVENT', 'an update must be an object');
  }
  const topics = input.topics;
  if (!Array.isArray(topics) || topics.length === 0) throw new SseHubError('MISSING_TOPIC');
  if (topics.length > limits.maxTopicsPerRequest) {
    throw new SseHubError('TOO_MANY_UPDATE_TOPICS', `at most ${limits.maxTopicsPerRequest}`);
  }
  const reserved = reservedOf(limits);
  for (const topic of topics) {
    const hubUrl = limits.publicUrl ?? DEFAULT_BASE;
    checkPublishTopic(topic, limits.maxTopicLength, hubUrl);
    if (isReservedTopic(topic, reserved, hubUrl)) throw new SseHubError('RESERVED_TOPIC', topic);
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
  const type = checkType(input.type, limits.maxTopicLength);
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
