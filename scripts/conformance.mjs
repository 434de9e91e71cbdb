#!/usr/bin/env node
// Runs upstream Mercure's Playwright conformance suite (dunglas/mercure, conformance-tests/)
// against `ssehub serve`, in Debian's headless Chromium. Nothing is fetched at run time: the
// suite comes from a copy kept outside the repository, and Playwright's test runner from the
// @playwright/test devDependency (`npm ci` installs it and downloads no browser).
//
//   npm run conformance [-- ref…]                 build, then `run` (below)
//   node scripts/conformance.mjs prepare [ref…]   copy conformance-tests/ of each ref (default:
//                                                 HEAD v0.24.2) out of a local git mirror of
//                                                 dunglas/mercure into the cache (git archive)
//   node scripts/conformance.mjs run [ref…]       run each cached suite (default: HEAD v0.24.2)
//   MERCURE_CONFORMANCE_DIR=/path/to/conformance-tests node scripts/conformance.mjs run
//                                                 run that one suite instead
//
// Environment:
//   MERCURE_CONFORMANCE_DIR    a checkout of upstream's conformance-tests/ (wins over the cache)
//   MERCURE_CONFORMANCE_CACHE  where `prepare` puts suites and `run` looks for them
//                              (default: ../.cache/mercure-conformance, beside the repository)
//   MERCURE_MIRROR             `prepare` only: a git dir of dunglas/mercure
//                              (default: /work/.mirror/dunglas+mercure/repo)
//   PLAYWRIGHT_NODE_MODULES    a node_modules holding @playwright/test, used before the
//                              repository's own (then NODE_PATH's entries are tried)
//   CHROMIUM                   the browser (default: /usr/bin/chromium)
//   CONFORMANCE_HUB_ARGS       extra `ssehub serve` flags (space-separated)
//   CONFORMANCE_KEEP_GOING=1   exit 0 even when tests fail (the summary still lists them)
//
// The hub is started as the suite expects of upstream's CI (Caddyfile + `playground`):
// HS256 key `!ChangeThisMercureHubJWTSecretKey!` for publishers and subscribers, anonymous
// subscribers, subscriptions on, CORS `*`, the hub at /.well-known/mercure and a page at `/`
// (the suite opens `/` and calls the hub from that origin). Its tokens name
// aud=https://localhost/.well-known/mercure and iss=https://localhost, so the hub's public URL
// is https://localhost/.well-known/mercure whatever port it listens on.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const DEFAULT_REFS = ['HEAD', 'v0.24.2'];
const CACHE = resolve(
  process.env.MERCURE_CONFORMANCE_CACHE ?? join(REPO, '..', '.cache', 'mercure-conformance'),
);
const MIRROR = process.env.MERCURE_MIRROR ?? '/work/.mirror/dunglas+mercure/repo';
const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
const JWT_KEY = '!ChangeThisMercureHubJWTSecretKey!';
const PUBLIC_URL = 'https://localhost/.well-known/mercure';
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

const fail = (message) => {
  console.error(`conformance: ${message}`);
  process.exit(2);
};

/** A directory name for a ref (`v0.24.2`, `HEAD`, `main`, a commit). */
const refDir = (ref) => join(CACHE, ref.replace(/[^A-Za-z0-9._-]/g, '_'));

function git(args) {
  const out = spawnSync('git', ['--git-dir', MIRROR, ...args], { encoding: 'utf8' });
  if (out.status !== 0) fail(`git ${args.join(' ')}: ${out.stderr.trim()}`);
  return out.stdout;
}

/** `prepare`: git archive conformance-tests/ of each ref into the cache. Needs the mirror. */
function prepare(refs) {
  if (!existsSync(MIRROR)) fail(`no git mirror at ${MIRROR} (set MERCURE_MIRROR)`);
  for (const ref of refs) {
    const commit = git(['rev-parse', '--verify', `${ref}^{commit}`]).trim();
    const date = git(['show', '-s', '--format=%cI', commit]).trim();
    const dir = refDir(ref);
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    const archive = spawnSync(
      'git',
      ['--git-dir', MIRROR, 'archive', commit, 'conformance-tests'],
      {
        maxBuffer: 64 * 1024 * 1024,
      },
    );
    if (archive.status !== 0) fail(`git archive ${ref}: ${archive.stderr}`);
    const untar = spawnSync('tar', ['-x', '-C', dir, '--strip-components=1'], {
      input: archive.stdout,
    });
    if (untar.status !== 0) fail(`tar: ${untar.stderr}`);
    writeFileSync(join(dir, '.ssehub-source.json'), `${JSON.stringify({ ref, commit, date })}\n`);
    console.log(`${ref} (${commit.slice(0, 12)}, ${date}) -> ${dir}`);
  }
}

/** The node_modules that holds @playwright/test, or exits saying how to get it. */
function playwrightModules() {
  const candidates = [
    process.env.PLAYWRIGHT_NODE_MODULES,
    join(REPO, 'node_modules'),
    ...(process.env.NODE_PATH ?? '').split(delimiter),
  ].filter(Boolean);
  for (const dir of candidates) {
    if (existsSync(join(dir, '@playwright', 'test', 'package.json'))) return resolve(dir);
  }
  fail(
    'no @playwright/test found (looked in PLAYWRIGHT_NODE_MODULES, the repository, NODE_PATH).\n' +
      '  It is a devDependency: `npm ci` installs it (no browser is downloaded). Or point\n' +
      '  PLAYWRIGHT_NODE_MODULES at a node_modules that holds it.',
  );
}

function freePort() {
  return new Promise((res, rej) => {
    const server = createServer();
    server.once('error', rej);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => res(port));
    });
  });
}

async function startHub() {
  const cli = join(REPO, 'dist', 'cli', 'main.js');
  if (!existsSync(cli)) fail('dist/cli/main.js is missing: run `npm run build` first');
  const port = await freePort();
  const args = [
    cli,
    'serve',
    '--host',
    '127.0.0.1',
    '--port',
    String(port),
    '--anonymous',
    '--subscriptions',
    '--cors-origins',
    '*',
    '--public-url',
    PUBLIC_URL,
    '--demo',
    '--log-level',
    'warn',
    // Extra flags, e.g. the resource identifier / trusted issuer once ssehub has them.
    ...(process.env.CONFORMANCE_HUB_ARGS ?? '').split(/\s+/).filter(Boolean),
  ];
  const log = [];
  const child = spawn(process.execPath, args, {
    env: { ...process.env, SSEHUB_JWT_KEY: JWT_KEY },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout.on('data', (d) => log.push(d));
  child.stderr.on('data', (d) => log.push(d));
  const origin = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 100; i++) {
    if (child.exitCode !== null) break;
    try {
      const res = await fetch(`${origin}/healthz`);
      if (res.ok) return { child, origin, log };
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill();
  fail(`the hub did not start:\n${Buffer.concat(log).toString()}`);
}

/** KEY=value lines of the suite's .env (the suite's own config loads it with dotenv). */
function dotenv(dir) {
  const file = join(dir, '.env');
  if (!existsSync(file)) return {};
  const env = {};
  for (const line of readFileSync(file, 'utf8').split(/\r?\n/)) {
    const m = /^\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*?)\s*$/.exec(line);
    if (m) env[m[1]] = m[2].replace(/^(['"])(.*)\1$/, '$2');
  }
  return env;
}

/** Runs one suite; returns [{ title, status, reason }]. */
async function runSuite(label, dir, modules, grep) {
  if (!existsSync(join(dir, 'playwright.config.ts')) && !existsSync(join(dir, 'mercure.spec.ts'))) {
    fail(
      `${dir} is not a conformance-tests/ checkout (run \`prepare\` or set MERCURE_CONFORMANCE_DIR)`,
    );
  }
  const work = mkdtempSync(join(tmpdir(), 'ssehub-conformance-'));
  const report = join(work, 'report.json');
  const hub = await startHub();
  const baseURL = `${hub.origin}/.well-known/mercure`;
  // Our own config instead of the suite's (which wants dotenv, an HTML reporter and three
  // browsers): the same timeouts, one Chromium project pointed at Debian's binary.
  const config = {
    testDir: dir,
    testMatch: '**/*.spec.ts',
    timeout: 10_000,
    expect: { timeout: 5_000 },
    retries: 0,
    workers: 1,
    outputDir: join(work, 'test-results'),
    reporter: [['list'], ['json', { outputFile: report }]],
    use: {
      baseURL,
      ignoreHTTPSErrors: true,
      actionTimeout: 0,
      trace: 'off',
      browserName: 'chromium',
      headless: true,
      launchOptions: { executablePath: CHROMIUM, args: CHROMIUM_ARGS },
    },
    projects: [{ name: 'chromium' }],
  };
  const configFile = join(work, 'playwright.config.mjs');
  writeFileSync(configFile, `export default ${JSON.stringify(config, null, 2)};\n`);
  const cli = createRequire(join(modules, 'noop.js')).resolve('@playwright/test/cli');
  const logFile = join(work, 'playwright.log');
  const env = {
    ...process.env,
    ...dotenv(dir),
    BASE_URL: baseURL,
    // The suite's spec imports @playwright/test: resolve it to the very copy running it.
    NODE_PATH: [modules, process.env.NODE_PATH].filter(Boolean).join(delimiter),
    PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD: '1',
    PLAYWRIGHT_BROWSERS_PATH: join(work, 'no-browsers'),
    CI: '',
  };
  console.log(
    `\n== ${label}${grep ? ` (alone: ${grep})` : ''}: ${dir}\n   hub ${baseURL}, log ${logFile}`,
  );
  const out = [];
  const code = await new Promise((res) => {
    const args = [cli, 'test', '--config', configFile, ...(grep ? ['--grep', grep] : [])];
    const pw = spawn(process.execPath, args, {
      cwd: dir,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    pw.stdout.on('data', (d) => out.push(d));
    pw.stderr.on('data', (d) => out.push(d));
    pw.on('close', res);
  });
  writeFileSync(logFile, Buffer.concat(out));
  hub.child.kill('SIGTERM');
  writeFileSync(join(work, 'hub.log'), Buffer.concat(hub.log));
  if (!existsSync(report)) {
    console.log(Buffer.concat(out).toString());
    fail(`Playwright exited ${code} without a report`);
  }
  const results = [];
  const walk = (suite, prefix) => {
    const name =
      suite.title && !suite.title.endsWith('.spec.ts') ? [...prefix, suite.title] : prefix;
    for (const spec of suite.specs ?? []) {
      for (const t of spec.tests ?? []) {
        const last = t.results?.at(-1);
        const status = last?.status ?? 'skipped';
        const error = last?.error?.message ?? last?.errors?.[0]?.message ?? '';
        // The suite logs `POST request done: {"status":…}`. A test that expects the update
        // not to arrive passes too when the publish itself was refused: flag that pass.
        const stdout = (last?.stdout ?? []).map((o) => o.text ?? '').join('');
        const publish = /POST request done: \{"status":(\d+),"id":("(?:[^"\\]|\\.)*")/.exec(stdout);
        const publishStatus = publish ? Number(publish[1]) : undefined;
        const vacuous = status === 'passed' && publishStatus !== undefined && publishStatus !== 200;
        results.push({
          title: [...name, spec.title].join(' › '),
          path: [...name, spec.title],
          status: status === 'passed' ? 'pass' : status === 'skipped' ? 'skip' : 'fail',
          publishStatus,
          reason:
            status === 'passed'
              ? vacuous
                ? `VACUOUS: the publish was answered ${publishStatus} (${JSON.parse(publish[2]).slice(0, 120)}), so nothing could arrive`
                : ''
              : summarize(error, status),
        });
      }
    }
    for (const child of suite.suites ?? []) walk(child, name);
  };
  for (const suite of JSON.parse(readFileSync(report, 'utf8')).suites ?? []) walk(suite, []);
  return { results, work };
}

const escapeRegExp = (text) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** One line out of a Playwright error message (ANSI colours removed). */
function summarize(message, status) {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: ANSI escapes
  const text = message.replace(/\u001b\[[0-9;]*m/g, '');
  const lines = text
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  const expected = lines.find((l) => l.startsWith('Expected'));
  const received = lines.find((l) => l.startsWith('Received'));
  if (expected && received) return `${lines[0]} (${expected}; ${received})`;
  return lines[0] ?? status;
}

async function run(refs) {
  const modules = playwrightModules();
  if (!existsSync(CHROMIUM))
    fail(`no browser at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM)`);
  const suites = process.env.MERCURE_CONFORMANCE_DIR
    ? [
        {
          label: process.env.MERCURE_CONFORMANCE_DIR,
          dir: resolve(process.env.MERCURE_CONFORMANCE_DIR),
        },
      ]
    : refs.map((ref) => {
        const dir = refDir(ref);
        if (!existsSync(dir)) {
          fail(
            `no suite for ${ref} in ${CACHE}: run \`node scripts/conformance.mjs prepare ${ref}\``,
          );
        }
        const source = join(dir, '.ssehub-source.json');
        const meta = existsSync(source) ? JSON.parse(readFileSync(source, 'utf8')) : undefined;
        return { label: meta ? `${ref} (${meta.commit.slice(0, 12)})` : ref, dir };
      });
  let failed = 0;
  const summary = [];
  for (const { label, dir } of suites) {
    const { results, work } = await runSuite(label, dir, modules);
    // A vacuous pass (the publish was refused, e.g. 409 for an id an earlier test of the suite
    // used) says nothing: run that test alone on a fresh hub, where the id is new.
    for (const r of results.filter((x) => x.reason.startsWith('VACUOUS'))) {
      const grep = `${r.path.map(escapeRegExp).join(' ')}$`;
      const alone = (await runSuite(label, dir, modules, grep)).results.find(
        (x) => x.title === r.title,
      );
      if (alone) {
        r.alone = alone;
        const still = alone.reason.startsWith('VACUOUS');
        r.reason += `; alone on a fresh hub: ${alone.status}, publish ${alone.publishStatus ?? '?'}`;
        if (!still && alone.reason) r.reason += ` (${alone.reason})`;
        // Refused again: the test proved nothing either way, so it does not count as a pass.
        r.status = alone.status === 'fail' ? 'fail' : still ? 'void' : r.status;
      }
    }
    summary.push({ suite: label, results, work });
    failed += results.filter((r) => r.status !== 'pass' && r.status !== 'skip').length;
  }
  console.log('\n== Summary');
  for (const { suite, results, work } of summary) {
    const pass = results.filter((r) => r.status === 'pass').length;
    const vacuous = results.filter((r) => r.reason.startsWith('VACUOUS')).length;
    console.log(
      `\n${suite}: ${pass}/${results.length} passed, ${vacuous} vacuous (artifacts: ${work})`,
    );
    for (const r of results) {
      console.log(`  ${r.status.padEnd(4)} ${r.title}${r.reason ? ` — ${r.reason}` : ''}`);
    }
  }
  const file = join(tmpdir(), 'ssehub-conformance-summary.json');
  writeFileSync(file, `${JSON.stringify(summary, null, 2)}\n`);
  console.log(`\nsummary JSON: ${file}`);
  process.exit(failed > 0 && process.env.CONFORMANCE_KEEP_GOING !== '1' ? 1 : 0);
}

const [command, ...rest] = process.argv.slice(2);
const refs = rest.length > 0 ? rest : DEFAULT_REFS;
if (command === 'prepare') prepare(refs);
else if (command === 'run') await run(refs);
else {
  console.error('usage: node scripts/conformance.mjs prepare|run [ref…]  (see the header comment)');
  process.exit(2);
}
