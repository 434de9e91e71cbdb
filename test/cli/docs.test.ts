import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { it } from 'node:test';
import { SERVE_SETTINGS } from '../../src/cli/serve-settings.js';

it('docs/server.md documents every serve flag and environment variable', () => {
  const doc = readFileSync(new URL('../../docs/server.md', import.meta.url), 'utf8');
  for (const setting of SERVE_SETTINGS) {
    assert.ok(doc.includes(`\`${setting.flag}\``), `${setting.flag} is documented`);
    if (setting.negate) assert.ok(doc.includes(`\`${setting.negate}\``), `${setting.negate}`);
    for (const name of setting.env) assert.ok(doc.includes(`\`${name}\``), `${name} is documented`);
  }
});

it("docs/server.md shows each serve setting's default in its row", () => {
  const doc = readFileSync(new URL('../../docs/server.md', import.meta.url), 'utf8');
  const rows = doc.split('\n').filter((line) => line.startsWith('|'));
  for (const setting of SERVE_SETTINGS) {
    // | Flag | Environment | Default | What it does |
    const cells = rows
      .map((line) => line.split('|').map((cell) => cell.trim()))
      .find((c) => c[1]?.includes(`\`${setting.flag}\``));
    assert.ok(cells, `${setting.flag} has a row`);
    const shown = cells[3];
    assert.equal(shown, setting.defaultText ?? '—', `default of ${setting.flag}`);
  }
});
