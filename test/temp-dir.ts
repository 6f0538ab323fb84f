import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

interface Owner {
  teardown(fn: () => void): void;
  passing(): boolean;
  comment(...args: unknown[]): void;
}

/**
 * A fresh directory under the system temp dir, removed when `t` ends. With `keepOnFailure` a failed
 * test leaves it (and says where) for the post-mortem.
 */
export function tempDir(t: Owner, prefix: string, { keepOnFailure = false } = {}): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  t.teardown(() => {
    if (keepOnFailure && !t.passing()) t.comment(`kept ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
  });
  return dir;
}
