// What `ssehub serve` writes to stdout: JSON when stdout is not a terminal, readable lines with
// --log-format pretty, coloured ones on a terminal (a pty through util-linux `script`); and at
// info one line per stream open and close and per publish, nothing per delivery.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { CLI_MAIN, cliEnv, type ServeProcess, startServe } from '../helpers/cli-process.js';
import { mintTestToken, postForm, TEST_SECRET } from '../helpers/hub-server.js';
import { eventually, openSse } from '../helpers/sse-client.js';

const TOPIC = 'https://example.com/books/1';
const root = fileURLToPath(new URL('../..', import.meta.url));

describe('serve logs', () => {
  const procs: ServeProcess[] = [];
  after(async () => {
    for (const p of procs) await p.dispose();
  });

  it('at info: one line per stream open and close and per publish, nothing per delivery (JSON on a pipe)', async () => {
    const proc = await startServe(
      ['--no-demo', '--anonymous'],
      cliEnv({ SSEHUB_JWT_KEY: TEST_SECRET }),
    );
    procs.push(proc);
    const started = proc.logs.length;
    const hub = `${proc.url}/.well-known/mercure`;
    const conn = await openSse(`${hub}?topic=${encodeURIComponent(TOPIC)}`);
    assert.equal(conn.status, 200);
    const token = await mintTestToken({ publish: ['*'] });
    for (let i = 0; i < 3; i++) {
      const res = await postForm(
        hub,
        { topic: TOPIC, data: `secret-data-${i}`, id: `u${i}` },
        { authorization: `Bearer ${token}` },
      );
      assert.equal(res.status, 200);
    }
    await conn.waitForEvents(3);
    conn.close();
    await proc.waitFor(
      () => proc.logs.some((r) => r.event === 'stream_close'),
      'the stream_close line',
    );
    const info = proc.logs.slice(started).filter((r) => r.level === 30);
    assert.deepEqual(
      info.map((r) => r.msg),
      [
        'stream opened',
        'update published',
        'update published',
        'update published',
        'stream closed',
      ],
    );
    const [opened, published] = info;
    assert.equal(opened?.address, '127.0.0.1');
    assert.equal(published?.id, 'u0');
    assert.equal(published?.topics, 1);
    assert.equal(published?.private, false);
    assert.equal(published?.bytes, 'secret-data-0'.length);
    assert.ok(!proc.stdout.includes('secret-data'), 'no update data in the log');
    assert.ok(!proc.stdout.includes(token), 'no token in the log');
  });

  it('--log-format pretty: readable lines, no colour on a pipe', async () => {
    const proc = await startServe(['--no-demo', '--log-format', 'pretty']);
    procs.push(proc);
    const listening = proc.stdoutLines.find((l) => l.includes('listening on'));
    assert.ok(listening);
    assert.match(
      listening,
      /^\d\d:\d\d:\d\d\.\d{3} INFO {2}ssehub listening on http:\/\/127\.0\.0\.1:\d+ /,
    );
    assert.ok(!proc.stdout.includes('\x1b['), 'no escape codes on a pipe');
    assert.equal(proc.logs.length, 0, 'no JSON lines');
    const conn = await openSse(`${proc.url}/.well-known/mercure?topic=x`);
    conn.close();
    await proc.waitForLine(/INFO {2}stream closed .*reason=client/);
  });

  const hasScript = spawnSync('script', ['--version']).status === 0;
  it('auto on a terminal: coloured, human-readable lines', {
    skip: hasScript ? false : 'util-linux script is not installed',
  }, async () => {
    const env = cliEnv();
    delete env.NO_COLOR;
    const command = [
      process.execPath,
      '--import',
      'tsx',
      CLI_MAIN,
      'serve',
      '--port',
      '0',
      '--host',
      '127.0.0.1',
      '--no-demo',
    ].join(' ');
    // `script` runs the command on a pseudo-terminal: its stdout is a TTY.
    const child = spawn('script', ['-qfec', command, '/dev/null'], {
      cwd: root,
      env,
      stdio: ['pipe', 'pipe', 'pipe'],
      detached: true,
    });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString('utf8');
    });
    try {
      await eventually(() => out.includes('listening on'), 'the listening line', 30_000);
      const ESC = '\x1b[';
      assert.ok(out.includes(`${ESC}32mINFO ${ESC}0m ${ESC}1mssehub listening on`), out);
      assert.ok(!/^\{"level"/m.test(out), 'no JSON lines');
    } finally {
      if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
    }
  });
});
