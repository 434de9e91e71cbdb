// The Dockerfile's two stages replayed without Docker: its COPY lines (with .dockerignore
// applied) lay out the build directory, `npm run build` runs there (node_modules linked in
// place of `npm ci`), and the runtime stage's COPY lines lay out the image's /app. The image
// must hold everything the server reads next to dist/: the console's files, the OpenAPI
// document, package.json.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const DOCKERFILE = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
const IGNORE = readFileSync(join(ROOT, '.dockerignore'), 'utf8')
  .split('\n')
  .map((l) => l.trim())
  .filter((l) => l !== '' && !l.startsWith('#'));

/** .dockerignore's verdict on a context path (last matching rule wins; `!` re-includes). */
function ignored(path: string): boolean {
  let out = false;
  for (const rule of IGNORE) {
    const negated = rule.startsWith('!');
    const pattern = negated ? rule.slice(1) : rule;
    const matches = pattern.startsWith('**/')
      ? path.split('/').includes(pattern.slice(3))
      : pattern.startsWith('*')
        ? path.endsWith(pattern.slice(1))
        : path === pattern || path.startsWith(`${pattern}/`);
    if (matches) out = !negated;
  }
  return out;
}

interface Copy {
  from: string | undefined;
  sources: string[];
  dest: string;
}

/** The COPY lines of each stage, in order. */
function stages(): Copy[][] {
  const out: Copy[][] = [];
  for (const line of DOCKERFILE.split('\n')) {
    if (/^FROM\s/i.test(line)) out.push([]);
    const m = /^COPY\s+(.*)$/i.exec(line);
    if (!m) continue;
    const words = m[1]!.trim().split(/\s+/);
    const from = words[0]?.startsWith('--from=') ? words.shift()!.slice(7) : undefined;
    const dest = words.pop()!;
    out.at(-1)!.push({ from, sources: words, dest });
  }
  return out;
}

/** Copies `source` (a context path) to `target`, leaving out what .dockerignore excludes. */
function copyFromContext(source: string, target: string): void {
  assert.ok(!ignored(source), `${source} is copied by the Dockerfile but .dockerignore drops it`);
  mkdirSync(dirname(target), { recursive: true });
  cpSync(join(ROOT, source), target, {
    recursive: true,
    filter: (src) => !ignored(relative(ROOT, src)),
  });
}

function targetOf(dir: string, dest: string, source: string): string {
  const base = join(dir, dest);
  return dest.endsWith('/') ? join(base, source.split('/').at(-1)!) : base;
}

describe('Dockerfile', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'ssehub-docker-'));
  after(() => rmSync(tmp, { recursive: true, force: true }));

  it('builds from what it copies, and the image holds what the server reads', async () => {
    const [build, runtime] = stages();
    assert.ok(build && runtime, 'two stages');
    const buildDir = join(tmp, 'build');
    mkdirSync(buildDir);
    for (const copy of build) {
      assert.equal(copy.from, undefined);
      for (const source of copy.sources) {
        copyFromContext(source, targetOf(buildDir, copy.dest, source));
      }
    }
    // `npm ci`, without the network: the repository's own dependencies.
    symlinkSync(join(ROOT, 'node_modules'), join(buildDir, 'node_modules'), 'dir');
    await run('npm', ['run', 'build', '--silent'], { cwd: buildDir });

    const appDir = join(tmp, 'app');
    mkdirSync(appDir);
    for (const copy of runtime) {
      for (const source of copy.sources) {
        if (copy.from === undefined) {
          copyFromContext(source, targetOf(appDir, copy.dest, source));
          continue;
        }
        assert.equal(copy.from, 'build');
        const rel = relative('/app', source);
        const target = targetOf(appDir, copy.dest, rel);
        if (rel === 'node_modules') symlinkSync(join(buildDir, rel), target, 'dir');
        else cpSync(join(buildDir, rel), target, { recursive: true });
      }
    }
    for (const file of [
      'package.json',
      'dist/cli/main.js',
      'dist/browser/ssehub-client.js',
      'dist/console/index.html',
      'dist/console/console.js',
      'dist/console/console.css',
      'docs/openapi.json',
    ]) {
      assert.ok(existsSync(join(appDir, file)), `the image has no /app/${file}`);
    }
    const { stdout } = await run('node', ['dist/cli/main.js', '--version'], { cwd: appDir });
    assert.match(stdout, /\d+\.\d+\.\d+/);
  });
});
