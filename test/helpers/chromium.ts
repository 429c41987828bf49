/**
 * Headless Chromium for the browser tests: the OS package (/usr/bin/chromium; `.ci/run` installs it),
 * driven by playwright-core, which never downloads a browser.
 */
import { existsSync } from 'node:fs';
import { type Browser, chromium } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';
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

/** Never skipped: a machine without the browser says so. */
export function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `${CHROMIUM} not found: the browser tests need the OS Chromium package ` +
        '(apt-get update && apt-get install -y chromium; .ci/run does this). No browser is ever downloaded.',
    );
  }
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
}
