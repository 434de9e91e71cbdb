#!/usr/bin/env node
// Bundles the browser client (src/client/browser.ts) into one minified ES module,
// dist/browser/ssehub-client.js, straight from the TypeScript source (no tsc step needed), and
// reports its gzipped size in the console and in dist/browser/size.json; then the web console
// (ui/console/ into dist/console/).
// platform 'browser' makes any node: import a build error, so Node-only code cannot slip in.
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const outfile = join(root, 'dist/browser/ssehub-client.js');
mkdirSync(dirname(outfile), { recursive: true });

/** One minified ES module for browsers, from a TypeScript entry point. */
function bundle(entry, out) {
  return build({
    entryPoints: [join(root, entry)],
    outfile: out,
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    minify: true,
    sourcemap: true,
    legalComments: 'none',
    logLevel: 'warning',
  });
}

await bundle('src/client/browser.ts', outfile);

const code = readFileSync(outfile);
const size = { bytes: code.byteLength, gzipBytes: gzipSync(code, { level: 9 }).byteLength };
writeFileSync(join(dirname(outfile), 'size.json'), `${JSON.stringify(size, null, 2)}\n`);
console.log(
  `dist/browser/ssehub-client.js: ${(size.bytes / 1024).toFixed(1)} KiB minified, ` +
    `${(size.gzipBytes / 1024).toFixed(1)} KiB gzipped`,
);

// The web console (ui/console/, served at /ui/ by `ssehub serve`, see docs/console.md): one
// bundle with the client inside, and its HTML and CSS copied as they are. No inline script or
// style anywhere: the console's CSP allows 'self' only.
const consoleDir = join(root, 'dist/console');
mkdirSync(consoleDir, { recursive: true });
await bundle('ui/console/main.ts', join(consoleDir, 'console.js'));
for (const name of ['index.html', 'console.css']) {
  copyFileSync(join(root, 'ui/console', name), join(consoleDir, name));
}
const consoleJs = readFileSync(join(consoleDir, 'console.js'));
console.log(
  `dist/console/console.js: ${(consoleJs.byteLength / 1024).toFixed(1)} KiB minified, ` +
    `${(gzipSync(consoleJs, { level: 9 }).byteLength / 1024).toFixed(1)} KiB gzipped`,
);
