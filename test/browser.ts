/**
 * Debian's chromium, headless, on a local file: the page's DOM after its scripts ran, and a screenshot.
 * `clogtest setup` installs it (harness/stack/host/packages.ts). Root needs --no-sandbox.
 */
import { pathToFileURL } from 'node:url';
import { run } from '../harness/base/proc.ts';

const FLAGS = ['--headless=new', '--no-sandbox', '--disable-gpu', '--hide-scrollbars', '--virtual-time-budget=10000'];

export async function renderedDom(file: string): Promise<{ dom: string; ms: number }> {
  const t0 = Date.now();
  const r = await run('chromium', [...FLAGS, '--dump-dom', pathToFileURL(file).href], { timeoutMs: 120_000 });
  return { dom: r.stdout, ms: Date.now() - t0 };
}

export async function screenshot(file: string, png: string, size = '1400,2400'): Promise<void> {
  await run('chromium', [...FLAGS, `--window-size=${size}`, `--screenshot=${png}`, pathToFileURL(file).href], { timeoutMs: 120_000 });
}
