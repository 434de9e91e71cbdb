import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { describe, it } from 'node:test';
import { BoundedLogStream, createLogger } from '../../src/server/logging.js';
import { lineFormatter, prettyLine, resolveLogFormat } from '../../src/server/pretty-log.js';

const ESC = '\x1b[';

describe('log format', () => {
  it('auto is pretty on a terminal and JSON otherwise; json and pretty are what they say', () => {
    assert.equal(resolveLogFormat('auto', true), 'pretty');
    assert.equal(resolveLogFormat('auto', false), 'json');
    assert.equal(resolveLogFormat('json', true), 'json');
    assert.equal(resolveLogFormat('pretty', false), 'pretty');
  });

  it('colours only on a terminal, and not with NO_COLOR', () => {
    const line = `${JSON.stringify({ level: 30, time: 0, msg: 'hi' })}\n`;
    assert.equal(lineFormatter('auto', { isTTY: false }), undefined, 'JSON: lines untouched');
    assert.ok(lineFormatter('auto', { isTTY: true }, {})?.(line).includes(ESC));
    assert.ok(!lineFormatter('auto', { isTTY: true }, { NO_COLOR: '1' })?.(line).includes(ESC));
    assert.ok(!lineFormatter('pretty', { isTTY: false }, {})?.(line).includes(ESC));
  });

  it('never writes a terminal control character a client sent (escapes, C1, bidi overrides)', () => {
    const line = JSON.stringify({
      level: 30,
      time: 0,
      msg: 'update published',
      topic: '\x1b]0;pwned\x07\x1b[2J',
      path: '/a\u009b31m',
      id: 'x\u202ey',
      err: { type: 'Error', message: 'bad \x1b[1m', stack: 'Error: bad\n    at \x1b[2J' },
    });
    const out = prettyLine(line, false);
    // biome-ignore lint/suspicious/noControlCharactersInRegex: the characters that must not appear
    assert.doesNotMatch(out, /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e]/);
    assert.ok(out.includes('\\u001b]0;pwned'), out);
    assert.ok(out.includes('\\u009b31m'), out);
  });

  it('writes time, level, message, then key=value, quoting what needs it', () => {
    const time = new Date(2026, 0, 2, 3, 4, 5, 67).getTime();
    const line = JSON.stringify({
      level: 30,
      time,
      name: 'ssehub',
      event: 'stream_open',
      selectors: 2,
      authenticated: false,
      address: '127.0.0.1',
      topic: 'a b',
      extra: { x: 1 },
      msg: 'stream opened',
    });
    assert.equal(
      prettyLine(line, false),
      '03:04:05.067 INFO  stream opened event=stream_open selectors=2 authenticated=false address=127.0.0.1 topic="a b" extra={"x":1}\n',
    );
    const coloured = prettyLine(line, true);
    assert.ok(coloured.includes(`${ESC}32mINFO ${ESC}0m`), 'info in green');
    assert.ok(coloured.includes(`${ESC}1mstream opened${ESC}0m`), 'the message in bold');
    assert.ok(prettyLine(JSON.stringify({ level: 40, msg: 'w' }), true).includes(`${ESC}33mWARN `));
    assert.ok(prettyLine(JSON.stringify({ level: 50, msg: 'e' }), true).includes(`${ESC}31mERROR`));
  });

  it("shows an error's message inline and its stack indented below", () => {
    const line = JSON.stringify({
      level: 50,
      time: 0,
      msg: 'request failed',
      err: { type: 'TypeError', message: 'boom', stack: 'TypeError: boom\n    at f (a.js:1:1)' },
    });
    const out = prettyLine(line, false);
    assert.match(out, /ERROR request failed err="TypeError: boom"\n {4}at f \(a\.js:1:1\)\n$/);
  });

  it('passes a line that is not a JSON object unchanged', () => {
    assert.equal(prettyLine('plain text\n', false), 'plain text\n');
    assert.equal(prettyLine('[1,2]\n', false), '[1,2]\n');
  });

  it('a BoundedLogStream with a formatter writes pretty lines through the real logger, redaction included', () => {
    const target = new PassThrough();
    let out = '';
    target.on('data', (chunk: Buffer) => {
      out += chunk.toString('utf8');
    });
    const stream = new BoundedLogStream(target, 1024 * 1024, (line) => prettyLine(line, false));
    const logger = createLogger('info', stream);
    logger.info({ event: 'publish', topics: 1, token: 'secret-token' }, 'update published');
    assert.match(out, /^\d\d:\d\d:\d\d\.\d{3} INFO {2}update published event=publish topics=1/);
    assert.ok(!out.includes('secret-token'));
    assert.ok(!out.startsWith('{'));
  });
});
