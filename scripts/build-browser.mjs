#!/usr/bin/env node
// Bundles the browser client (src/client/browser.ts) into one minified ES module,
// dist/browser/ssehub-client.js, straight from the TypeScript source (no tsc step needed), and
// reports its gzipped size in the console and in dist/browser/size.json.
// platform 'browser' makes any node: import a build error, so Node-only code cannot slip in.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const outfile = join(root, 'dist/browser/ssehub-client.js');
mkdirSync(dirname(outfile), { recursive: true });

await build({
  entryPoints: [join(root, 'src/client/browser.ts')],
  outfile,
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: 'es2022',
  minify: true,
  sourcemap: true,
  legalComments: 'none',
  logLevel: 'warning',
});

const code = readFileSync(outfile);
const size = { bytes: code.byteLength, gzipBytes: gzipSync(code, { level: 9 }).byteLength };
writeFileSync(join(dirname(outfile), 'size.json'), `${JSON.stringify(size, null, 2)}\n`);
console.log(
  `dist/browser/ssehub-client.js: ${(size.bytes / 1024).toFixed(1)} KiB minified, ` +
    `${(size.gzipBytes / 1024).toFixed(1)} KiB gzipped`,
);
