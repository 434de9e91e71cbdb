import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  CliProcess,
  cliEnv,
  runCli,
  type ServeProcess,
  startServe,
} from '../helpers/cli-process.js';
import { openSse } from '../helpers/sse-client.js';

const SECRET = 'cli-commands-test-secret-0123456789';
const TOPIC = 'https://example.com/books/1';

async function token(...args: string[]): Promise<string> {
  const res = await runCli(['token', '--secret', SECRET, ...args]);
  assert.equal(res.code, 0, res.stderr);
  const jwt = res.stdout.trim();
  assert.match(jwt, /^[\w-]+\.[\w-]+\.[\w-]+$/);
  return jwt;
}

describe('ssehub token, publish and subscribe against a spawned hub', () => {
  let hub: ServeProcess;
  const procs: CliProcess[] = [];

  before(async () => {
    hub = await startServe(['--no-demo', '--anonymous'], cliEnv({ SSEHUB_JWT_KEY: SECRET }));
  });
  after(async () => {
    await Promise.all(procs.map((p) => p.dispose()));
    await hub?.dispose();
  });

  it('token mints a JWT the hub accepts, in both drafts', async () => {
    for (const draft of ['07', '08']) {
      const jwt = await token('--publish', '*', '--draft', draft, '--expires', '10m');
      const payload = JSON.parse(Buffer.from(jwt.split('.')[1] as string, 'base64url').toString());
      if (draft === '07') assert.deepEqual(payload.mercure, { publish: ['*'] });
      else {
        assert.equal(
          payload.authorization_details[0].type,
          'https://mercure.rocks/authorization-detail',
        );
        const header = JSON.parse(Buffer.from(jwt.split('.')[0] as string, 'base64url').toString());
        assert.equal(header.typ, 'at+jwt');
        // The seven RFC 9068 claims, iss and aud matching the hub's defaults.
        assert.equal(payload.iss, 'https://localhost');
        assert.equal(payload.aud, 'https://localhost/.well-known/mercure');
        assert.equal(payload.client_id, 'https://localhost');
        assert.equal(payload.sub, 'https://localhost');
        assert.match(payload.jti, /^urn:uuid:/);
      }
      assert.ok(payload.exp - payload.iat === 600, 'expires in 10 minutes');
      const res = await fetch(`${hub.url}/.well-known/mercure`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${jwt}`,
          'content-type': 'application/x-www-form-urlencoded',
        },
        body: new URLSearchParams({ topic: TOPIC, data: `draft ${draft}` }),
      });
      assert.equal(res.status, 200, `draft ${draft}`);
      assert.match(await res.text(), /^urn:uuid:/);
    }
  });

  it('token --draft 08 reads a urlpattern: prefix as match_type', async () => {
    const jwt = await token(
      '--draft',
      '08',
      '--subscribe',
      'urlpattern:https://example.com/books/:id',
      '--issuer',
      'https://app.example.com',
      '--client-id',
      'my-app',
    );
    const payload = JSON.parse(Buffer.from(jwt.split('.')[1] as string, 'base64url').toString());
    assert.deepEqual(payload.authorization_details[0].topics, [
      { match: 'https://example.com/books/:id', match_type: 'urlpattern' },
    ]);
    assert.equal(payload.iss, 'https://app.example.com');
    assert.equal(payload.client_id, 'my-app');
  });

  it('token refuses a request without selectors or key', async () => {
    const none = await runCli(['token', '--secret', SECRET]);
    assert.equal(none.code, 2);
    assert.match(none.stderr, /at least one --publish or --subscribe/);
    const noKey = await runCli(['token', '--publish', '*']);
    assert.equal(noKey.code, 2);
    assert.match(noKey.stderr, /no signing key/);
    const badDraft = await runCli(['token', '--secret', SECRET, '--publish', '*', '--draft', '9']);
    assert.notEqual(badDraft.code, 0);
    assert.match(badDraft.stderr, /--draft/);
  });

  it('publish prints the id; subscribe prints the update as it arrives', async () => {
    const sub = new CliProcess(
      ['subscribe', 'https://example.com/books/{id}', '--hub', hub.url, '--format', 'json'],
      cliEnv(),
    );
    procs.push(sub);
    await sub.waitForLine(/^connected to /, undefined, 'stderr');

    const publisher = await token('--publish', TOPIC);
    const pub = await runCli([
      'publish',
      TOPIC,
      '--data',
      'line one\nline two',
      '--type',
      'book',
      '--id',
      'book-1-v1',
      '--hub',
      hub.url,
      '--token',
      publisher,
    ]);
    assert.equal(pub.code, 0, pub.stderr);
    assert.equal(pub.stdout.trim(), 'book-1-v1');

    const line = await sub.waitForLine(/"id":"book-1-v1"/);
    assert.deepEqual(JSON.parse(line.input as string), {
      id: 'book-1-v1',
      type: 'book',
      data: 'line one\nline two',
    });
    sub.kill('SIGINT');
    assert.deepEqual(await sub.waitForExit(), { code: 0, signal: null });
  });

  it('a private update reaches only a subscriber whose token allows it', async () => {
    const reader = await token('--subscribe', TOPIC);
    const allowed = new CliProcess(
      ['subscribe', TOPIC, '--hub', `${hub.url}/.well-known/mercure`, '--token', reader],
      cliEnv(),
    );
    // The token comes from the environment here, as a deployment would pass it.
    const other = await token('--subscribe', 'https://example.com/other');
    const denied = new CliProcess(
      ['subscribe', TOPIC, '--hub', hub.url],
      cliEnv({ SSEHUB_TOKEN: other }),
    );
    procs.push(allowed, denied);
    await allowed.waitForLine(/^connected/, undefined, 'stderr');
    await denied.waitForLine(/^connected/, undefined, 'stderr');

    const publisher = await token('--publish', '*');
    const secret = await runCli(
      ['publish', TOPIC, '--data', 'for readers only', '--private', '--hub', hub.url],
      cliEnv({ SSEHUB_TOKEN: publisher }),
    );
    assert.equal(secret.code, 0, secret.stderr);
    const open = await runCli(
      ['publish', TOPIC, '--data', 'for everyone', '--hub', hub.url],
      cliEnv({ SSEHUB_TOKEN: publisher }),
    );
    assert.equal(open.code, 0, open.stderr);

    await allowed.waitForLine(/^data: for everyone$/);
    assert.ok(allowed.stdoutLines.includes('data: for readers only'));
    assert.ok(allowed.stdoutLines.includes(`id: ${secret.stdout.trim()}`));
    // The public update came after the private one: had the private one been sent, it is here.
    await denied.waitForLine(/^data: for everyone$/);
    assert.ok(!denied.stdout.includes('for readers only'));
    allowed.kill('SIGTERM');
    denied.kill('SIGTERM');
    assert.equal((await allowed.waitForExit()).code, 0);
    assert.equal((await denied.waitForExit()).code, 0);
  });

  it('subscribe --last-event-id resumes from history', async () => {
    const publisher = await token('--publish', '*');
    const topic = 'https://example.com/resume';
    const ids: string[] = [];
    for (const data of ['one', 'two', 'three']) {
      const res = await runCli([
        'publish',
        topic,
        '-d',
        data,
        '--hub',
        hub.url,
        '--token',
        publisher,
      ]);
      assert.equal(res.code, 0, res.stderr);
      ids.push(res.stdout.trim());
    }
    const sub = new CliProcess(
      [
        'subscribe',
        topic,
        '--hub',
        hub.url,
        '--last-event-id',
        ids[0] as string,
        '--format',
        'json',
      ],
      cliEnv(),
    );
    procs.push(sub);
    await sub.waitForLine(/"data":"three"/);
    const got = sub.stdoutLines.map((l) => JSON.parse(l) as { id: string; data: string });
    assert.deepEqual(got, [
      { id: ids[1], type: 'message', data: 'two' },
      { id: ids[2], type: 'message', data: 'three' },
    ]);
    sub.kill('SIGINT');
    await sub.waitForExit();
  });

  it('publish exits non-zero with the hub message on error', async () => {
    const bad = await runCli([
      'publish',
      TOPIC,
      '-d',
      'x',
      '--hub',
      hub.url,
      '--token',
      'not.a.jwt',
    ]);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /^ssehub: the hub answered 401: .+/m);

    const reader = await token('--subscribe', '*');
    const forbidden = await runCli([
      'publish',
      TOPIC,
      '-d',
      'x',
      '--hub',
      hub.url,
      '--token',
      reader,
    ]);
    assert.equal(forbidden.code, 1);
    assert.match(forbidden.stderr, /the hub answered 403/);

    const noToken = await runCli(['publish', TOPIC, '-d', 'x', '--hub', hub.url]);
    assert.equal(noToken.code, 2);
    assert.match(noToken.stderr, /needs a token/);

    const unreachable = await runCli([
      'publish',
      TOPIC,
      '-d',
      'x',
      '--hub',
      'http://127.0.0.1:1',
      '--token',
      reader,
    ]);
    assert.equal(unreachable.code, 1);
    assert.match(unreachable.stderr, /could not reach the hub/);
  });

  it('subscribe exits non-zero when the hub refuses the token', async () => {
    const res = await runCli(['subscribe', TOPIC, '--hub', hub.url, '--token', 'not.a.jwt']);
    assert.equal(res.code, 1);
    assert.match(res.stderr, /401/);
  });

  it('the spawned hub logged the streams without their tokens', async () => {
    const conn = await openSse(`${hub.url}/.well-known/mercure?topic=x`, {
      headers: { authorization: `Bearer ${await token('--subscribe', '*')}` },
    });
    conn.close();
    await hub.waitFor(
      () => hub.logs.filter((r) => r.event === 'stream_close').length >= 1,
      'stream lines',
    );
    assert.ok(!/eyJ[\w-]+\.eyJ/.test(hub.stdout), 'no JWT in the log');
  });
});
