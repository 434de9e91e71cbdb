import type { LogFormat } from './options.js';

/** A function that turns one pino JSON line (newline included) into what is written. */
export type LineFormatter = (line: string) => string;

const LEVELS: Record<number, { label: string; color: string }> = {
  10: { label: 'TRACE', color: '90' },
  20: { label: 'DEBUG', color: '36' },
  30: { label: 'INFO ', color: '32' },
  40: { label: 'WARN ', color: '33' },
  50: { label: 'ERROR', color: '31' },
  60: { label: 'FATAL', color: '41;97' },
};

/** Fields every line has, shown in their own place rather than as `key=value`. */
const OWN_PLACE = new Set(['level', 'time', 'msg', 'name', 'pid', 'hostname']);

/** `auto`: pretty on a terminal, JSON otherwise (a pipe, a file, a log collector). */
export function resolveLogFormat(format: LogFormat, isTTY: boolean): 'json' | 'pretty' {
  if (format === 'auto') return isTTY ? 'pretty' : 'json';
  return format;
}

/**
 * The formatter for `format` writing to `target`: undefined for JSON (pino's lines as they are),
 * else {@link prettyLine} with colours when the target is a terminal and `NO_COLOR` is unset.
 */
export function lineFormatter(
  format: LogFormat,
  target: { readonly isTTY?: boolean },
  env: Readonly<Record<string, string | undefined>> = process.env,
): LineFormatter | undefined {
  const isTTY = target.isTTY === true;
  if (resolveLogFormat(format, isTTY) === 'json') return undefined;
  const colors = isTTY && (env.NO_COLOR ?? '') === '';
  return (line) => prettyLine(line, colors);
}

function paint(text: string, color: string, colors: boolean): string {
  return colors ? `\x1b[${color}m${text}\x1b[0m` : text;
}

function clock(time: unknown): string {
  const date = typeof time === 'number' ? new Date(time) : new Date();
  const pad = (n: number, width = 2) => String(n).padStart(width, '0');
  return `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}.${pad(date.getMilliseconds(), 3)}`;
}

/**
 * C0 and C1 controls, DEL and the bidi overrides: a terminal acts on them (an escape sequence in a
 * topic or a path could rewrite the screen or the title), so they are never written raw.
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching them is the point
const CONTROLS = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

const escapeControls = (text: string): string =>
  text.replace(CONTROLS, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);

function valueText(value: unknown): string {
  if (typeof value === 'string') {
    return /^[^\s"=]+$/.test(value) && !new RegExp(CONTROLS.source).test(value)
      ? value
      : escapeControls(JSON.stringify(value));
  }
  if (value === null || typeof value !== 'object') return String(value);
  return escapeControls(JSON.stringify(value));
}

/**
 * One pino JSON line as a person reads it: local time, level, message, then the other fields as
 * `key=value` (strings quoted when they hold spaces), and an error's stack indented below. A line
 * that is not a JSON object passes unchanged.
 */
export function prettyLine(line: string, colors: boolean): string {
  let record: Record<string, unknown>;
  try {
    const parsed: unknown = JSON.parse(line);
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return line;
    record = parsed as Record<string, unknown>;
  } catch {
    return line;
  }
  const level = LEVELS[record.level as number] ?? { label: String(record.level), color: '0' };
  let out = `${paint(clock(record.time), '90', colors)} ${paint(level.label, level.color, colors)}`;
  if (typeof record.msg === 'string') out += ` ${paint(escapeControls(record.msg), '1', colors)}`;
  let stack: string | undefined;
  for (const [key, value] of Object.entries(record)) {
    if (OWN_PLACE.has(key) || value === undefined) continue;
    if (key === 'err' && value !== null && typeof value === 'object') {
      const err = value as { type?: unknown; message?: unknown; stack?: unknown };
      out += ` ${paint('err=', '2', colors)}${valueText(`${err.type ?? 'Error'}: ${err.message ?? ''}`)}`;
      if (typeof err.stack === 'string') stack = err.stack;
      continue;
    }
    out += ` ${paint(`${key}=`, '2', colors)}${valueText(value)}`;
  }
  if (stack !== undefined) {
    const lines = stack.split('\n').slice(1);
    if (lines.length > 0)
      out += `\n${paint(lines.map((l) => `    ${escapeControls(l.trim())}`).join('\n'), '90', colors)}`;
  }
  return `${out}\n`;
}
