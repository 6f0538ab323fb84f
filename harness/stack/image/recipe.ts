/**
 * The guest-side recipe: every file under vm-images/ (init, sshd drop-in, package list) but the cmirrord
 * patches kept there (defects, fixes, coverage), which reach an image only when applied (--daemon-patch) and then enter its key
 * through the cmirrord build, and the stacks file, whose lvm2 pin enters it the same way (a kernel pin
 * never reaches an image). The recipe's bytes go into the image key, so editing any of them rebuilds it.
 */
import { lstatSync, readdirSync, readFileSync, readlinkSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { KeyPart } from '../cache.ts';
import { InputError } from '../../base/errors.ts';
import { repoRoot } from '../../base/paths.ts';
import { FIX_DIRS } from '../fixes.ts';
import { COVERAGE_DIRS } from '../coverage.ts';
import { STACKS_FILE } from '../stacks.ts';

export const VM_IMAGES = join(repoRoot, 'vm-images');
export const PACKAGES_FILE = join(VM_IMAGES, 'packages.txt');
export const GUEST_DIR = join(VM_IMAGES, 'guest');
/** cmirrord patches that are not part of the stock image: the defect corpus (first), the fixes, and the coverage build's. */
export const DAEMON_PATCH_DIRS = [join(VM_IMAGES, 'defects'), FIX_DIRS.daemon, COVERAGE_DIRS.daemon];

/** Package names, one a line; `#` starts a comment. */
export function parsePackages(text: string, file: string): string[] {
  const names: string[] = [];
  text.split('\n').forEach((raw, i) => {
    const line = raw.replace(/#.*$/, '').trim();
    if (!line) return;
    if (!/^[a-z0-9][a-z0-9+.-]+$/.test(line)) throw new InputError(`${file}:${i + 1}: "${line}" is not a Debian package name`);
    names.push(line);
  });
  return names;
}

export function loadPackages(file = PACKAGES_FILE): string[] {
  return parsePackages(readFileSync(file, 'utf8'), file);
}

function walk(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    .flatMap((e) => {
      const path = join(dir, e.name);
      if (path === STACKS_FILE) return [];
      if (!e.isDirectory()) return [path];
      return DAEMON_PATCH_DIRS.includes(path) ? [] : walk(path);
    });
}

/**
 * Path, executable bit and bytes of each file: a chmod changes the guest as much as an edit. A symbolic
 * link counts by its target, never followed: the overlay's links point at guest paths such as /proc/self/fd.
 */
export function recipeParts(dir = VM_IMAGES): KeyPart[] {
  return walk(dir).map((file) => {
    if (lstatSync(file).isSymbolicLink()) return [`link ${relative(dir, file)}`, readlinkSync(file)] as const;
    const exec = (statSync(file).mode & 0o111) !== 0 ? 'x' : '-';
    return [`file ${exec} ${relative(dir, file)}`, readFileSync(file)] as const;
  });
}
