import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { after, describe, it } from 'node:test';
import { type CliProcess, cliEnv, runCli, startServe } from '../helpers/cli-process.js';
import { eventually, openSse } from '../helpers/sse-client.js';

const SECRET = 'cli-serve-test-secret-0123456789';

describe('ssehub --help', () => {
  it('lists the commands with a quick start', async () => {
    const { code, stdout } = await runCli(['--help']);
    assert.equal(code, 0);
    for (const command of ['serve', 'token', 'publish', 'subscribe']) {
      assert.match(stdout, new RegExp(`^  ${command}\\b`, 'm'), `lists ${command}`);
    }
    assert.match(stdout, /Quick start:/);
    const version = await runCli(['--version']);
    assert.equal(version.code, 0);
    assert.match(version.stdout.trim(), /^\d+\.\d+\.\d+/);
  });

  it('serve --help shows every flag with its default and environment variable', async () => {
    const help = await runCli(['serve', '--help']);
    assert.equal(help.code, 0);
    // Help text wraps at the terminal width; compare with runs of spaces collapsed.
    const stdout = help.stdout.replace(/\s+/g, ' ');
    assert.match(stdout, /-p, --port <number>[\s\S]*default: 3000; env: SSEHUB_PORT, PORT/);
    assert.match(stdout, /--jwt-key <key>[\s\S]*env: SSEHUB_JWT_KEY/);
    assert.match(stdout, /--no-demo/);
    assert.match(stdout, /Authorization options:/);
    assert.match(stdout, /random development secret/);
    assert.match(stdout, /Examples:/);
  });

  it('exits non-zero with a clear message on bad flags', async () => {
    const unknown = await runCli(['serve', '--bogus']);
    assert.notEqual(unknown.code, 0);
    assert.match(unknown.stderr, /unknown option '--bogus'/);

    const badPort = await runCli(['serve', '--port', 'abc']);
    assert.equal(badPort.code, 2);
    assert.match(badPort.stderr, /--port must be a non-negative integer \(got "abc"\)/);

    const badEnv = await runCli(['serve'], cliEnv({ SSEHUB_ANONYMOUS: 'maybe' }));
    assert.equal(badEnv.code, 2);
    assert.match(badEnv.stderr, /SSEHUB_ANONYMOUS must be true or false/);

    const noFile = await runCli(['serve', '--tls-cert', 'nope.pem', '--tls-key', 'nope.pem']);
    assert.equal(noFile.code, 2);
    assert.match(noFile.stderr, /cannot read the TLS certificate file/);

    const unknownCommand = await runCli(['frobnicate']);
    assert.notEqual(unknownCommand.code, 0);
    assert.match(unknownCommand.stderr, /unknown command 'frobnicate'/);
  });

  it('exits non-zero when the port is taken', async (t) => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    t.after(() => blocker.close());
    const port = String((blocker.address() as { port: number }).port);
    const res = await runCli(['serve', '--port', port, '--host', '127.0.0.1']);
    assert.equal(res.code, 1);
    assert.match(res.stderr, /EADDRINUSE/);
  });
});

describe('ssehub serve', () => {
  const procs: CliProcess[] = [];
  after(async () => {
    await Promise.all(procs.map((p) => p.dispose()));
  });

  it('with no key: a development secret, a warning that says how to mint a token', async () => {
    const proc = await startServe();
    procs.push(proc);
    await proc.waitFor(() => proc.logs.some((r) => r.level === 40), 'the warning');
    const warning = proc.logs.find((r) => /No JWT key configured/.test(String(r.msg)));
    assert.ok(warning, 'a warning');
    assert.equal(warning.level, 40);
    assert.match(String(warning.mint), /^ssehub token --secret '[A-Za-z0-9_-]{40,}' --publish/);
    // Anonymous subscribers are let in.
    const conn = await openSse(`${proc.url}/.well-known/mercure?topic=x`);
    assert.equal(conn.status, 200);
    conn.close();
  });

  it('never logs a configured secret; healthz and readyz answer 200', async () => {
    const proc = await startServe([], cliEnv({ SSEHUB_JWT_KEY: SECRET }));
    procs.push(proc);
    const health = await fetch(`${proc.url}/healthz`);
    assert.equal(health.status, 200);
    await health.text();
    const ready = await fetch(`${proc.url}/readyz`);
    assert.equal(ready.status, 200);
    await ready.text();
    // Without the development default, subscribers need a token.
    const denied = await fetch(`${proc.url}/.well-known/mercure?topic=x`);
    assert.equal(denied.status, 401);
    await denied.text();
    await eventually(() => proc.logs.some((r) => r.path === '/readyz'), 'the request log');
    assert.ok(!proc.stdout.includes(SECRET) && !proc.stderr.includes(SECRET));
    assert.ok(!proc.logs.some((r) => /No JWT key/.test(String(r.msg))));
  });

  it('on SIGTERM ends the streams (clients reconnect elsewhere) and exits 0', async () => {
    const proc = await startServe(['--no-demo']);
    procs.push(proc);
    const conn = await openSse(`${proc.url}/.well-known/mercure?topic=x`);
    assert.equal(conn.status, 200);
    proc.kill('SIGTERM');
    await conn.waitForEnd();
    const exit = await proc.waitForExit();
    assert.deepEqual(exit, { code: 0, signal: null });
    assert.ok(proc.logs.some((r) => r.msg === 'hub shut down'));
    assert.ok(proc.logs.some((r) => r.msg === 'stopped'));
  });

  it('answers /readyz with 503 while draining; a second signal exits at once', async () => {
    const proc = await startServe(['--drain-delay', '1m', '--shutdown-grace', '5s']);
    procs.push(proc);
    const conn = await openSse(`${proc.url}/.well-known/mercure?topic=x`);
    const readyz = async () => {
      const res = await fetch(`${proc.url}/readyz`);
      return { status: res.status, body: await res.text() };
    };
    assert.equal((await readyz()).status, 200);
    proc.kill('SIGTERM');
    await proc.waitFor(() => proc.logs.some((r) => r.msg === 'shutting down'), 'shutting down');
    const during = await readyz();
    assert.equal(during.status, 503);
    assert.match(during.body, /shutting down/);
    const health = await fetch(`${proc.url}/healthz`);
    assert.equal(health.status, 200, 'still alive');
    await health.text();
    assert.equal(conn.ended, false, 'streams keep going while draining');
    proc.kill('SIGINT');
    // Forced: status 1, without waiting for the rest of the minute-long drain.
    assert.deepEqual(await proc.waitForExit(), { code: 1, signal: null });
    await conn.waitForEnd();
    assert.ok(proc.logs.some((r) => r.msg === 'second signal: exiting now'));
  });
});
