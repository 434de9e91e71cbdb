// Launches the system Chromium (Debian's /usr/bin/chromium) through playwright-core for browser
// tests. Without Chromium a test skips with a reason, except on CI, where it must run and fails.
import { existsSync } from 'node:fs';
import type { TestContext } from 'node:test';
import { type Browser, chromium } from 'playwright-core';

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Flags for a headless Chromium on a machine with no network beyond loopback. */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/**
 * Why browser tests must skip here, or undefined when Chromium is installed. Throws on CI, where
 * a missing Chromium is a broken set-up, not a reason to skip.
 */
export function chromiumMissing(): string | undefined {
  if (existsSync(CHROMIUM_PATH)) return undefined;
  if (process.env.CI) {
    throw new Error(`Chromium is required on CI but ${CHROMIUM_PATH} does not exist`);
  }
  return `no Chromium at ${CHROMIUM_PATH} (apt-get install chromium); set CI to require it`;
}

/**
 * Chromium for this test, closed when the test ends; undefined (the test is skipped) when it is
 * not installed and CI is not set.
 */
export async function launchChromium(t: TestContext): Promise<Browser | undefined> {
  const missing = chromiumMissing();
  if (missing !== undefined) {
    t.skip(missing);
    return undefined;
  }
  const browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
  t.after(() => browser.close());
  return browser;
}
