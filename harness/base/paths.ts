import { homedir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The checkout this harness runs from; guest files and patches are found relative to it. */
export const repoRoot = dirname(dirname(dirname(fileURLToPath(import.meta.url))));

/** Everything built (kernels, images, sources) lives here, outside the repo, keyed by content hash. */
export function cacheRoot(): string {
  return process.env.CLOGTEST_CACHE ?? join(homedir(), '.cache', 'clogtest');
}

export function runsRoot(): string {
  return process.env.CLOGTEST_RUNS ?? join(repoRoot, 'runs');
}

/** Run directory names: UTC, sortable, free of characters a shell or QEMU option would trip on. */
export function timestamp(d = new Date()): string {
  return d.toISOString().replace(/\.\d+Z$/, 'Z').replace(/[-:]/g, '').replace('T', '-');
}
