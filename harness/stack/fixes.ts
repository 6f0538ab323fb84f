/**
 * The fixes for the bugs the suite found, one patch per bug in the form lvm2 and dm-devel take. They are kept
 * apart from kernel-patches/series, which only makes the stack testable: the default suite runs the stack as
 * its users have it, and `--fixes` applies every fix after the patches given on the command line (the stack
 * is then cached under keys of its own, like any patch set).
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../base/paths.ts';

export const FIX_DIRS = {
  /** cmirrord: applied with patch -p1 to the lvm2 source, as --daemon-patch does. */
  daemon: join(repoRoot, 'vm-images', 'fixes'),
  /** dm-log-userspace and dm-raid1: applied after kernel-patches/series, as --kernel-patch does. */
  kernel: join(repoRoot, 'kernel-patches', 'fixes'),
} as const;

/** The fix patches of one side, in file name order (their numbers). */
export function fixPatches(side: keyof typeof FIX_DIRS, dir: string = FIX_DIRS[side]): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).filter((f) => f.endsWith('.patch')).sort().map((f) => join(dir, f));
}

/** The patches a command line gave, then, with --fixes, every fix of that side. */
export function withFixes(given: readonly string[] | undefined, fixes: boolean | undefined, side: keyof typeof FIX_DIRS): string[] | undefined {
  if (!fixes) return given ? [...given] : undefined;
  return [...(given ?? []), ...fixPatches(side)];
}
