/**
 * The defect corpus: planted bugs that prove the checks can fail. Each defect is a patch file whose header
 * says what it is, before the prose that explains it and the diff:
 *
 *   Defect: mark-keeps-clean-bit
 *   Request: mark
 *   Cases: healthy-sync
 *   Expect: dirty-before-write, clean-implies-equal
 *
 * Where the file lives says which side it plants the bug in: kernel-patches/defects/ (dm-log-userspace and
 * dm-raid1, applied with --kernel-patch) or vm-images/defects/ (cmirrord, applied with --daemon-patch).
 * Cases name the narrowest cases of cases/ (or cases/defects/) that should catch it; Expect the checks that
 * should fire. A defect is caught when one of its cases fails a check on a real cluster.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { CHECKS, type CheckName } from '../../case/schema.ts';
import { InputError } from '../../base/errors.ts';
import { DAEMON_PATCH_DIRS } from '../image/recipe.ts';
import { repoRoot } from '../../base/paths.ts';

export type Side = 'kernel' | 'daemon';

export const DEFECT_DIRS: Record<Side, string> = {
  kernel: join(repoRoot, 'kernel-patches', 'defects'),
  daemon: DAEMON_PATCH_DIRS[0]!,
};

/** Where a defect's cases are looked for, in order. */
export const CASE_DIRS = [join(repoRoot, 'cases'), join(repoRoot, 'cases', 'defects')];

export interface Defect {
  name: string;
  side: Side;
  /** The request type (or part of the stack) the bug is in. */
  request: string;
  cases: string[];
  expect: CheckName[];
  /** The prose of the header: the bug as a maintainer would read it. */
  why: string;
  file: string;
}

const HEADER_KEYS = ['Defect', 'Request', 'Cases', 'Expect'] as const;

/** A defect's header; every problem is reported as file:line: message. */
export function parseDefect(text: string, file: string, side: Side): Defect {
  const lines = text.split('\n');
  const fields = new Map<string, { value: string; line: number }>();
  let i = 0;
  for (; i < lines.length && lines[i]!.trim() !== ''; i++) {
    const m = /^([A-Za-z]+):\s*(.*)$/.exec(lines[i]!);
    if (!m) throw new InputError(`${file}:${i + 1}: expected "Key: value" in the defect header, got ${JSON.stringify(lines[i])}`);
    if (!(HEADER_KEYS as readonly string[]).includes(m[1]!)) throw new InputError(`${file}:${i + 1}: unknown header key "${m[1]}"; expected ${HEADER_KEYS.join(', ')}`);
    fields.set(m[1]!, { value: m[2]!.trim(), line: i + 1 });
  }
  for (const key of HEADER_KEYS) if (!fields.get(key)?.value) throw new InputError(`${file}:1: the defect header needs ${key}:`);
  const list = (key: string) => fields.get(key)!.value.split(',').map((s) => s.trim()).filter(Boolean);
  const expect = list('Expect');
  const unknown = expect.filter((c) => !(CHECKS as readonly string[]).includes(c));
  if (unknown.length) throw new InputError(`${file}:${fields.get('Expect')!.line}: unknown check ${unknown.join(', ')}; expected ${CHECKS.join(', ')}`);
  const diffAt = lines.findIndex((l) => l.startsWith('--- '));
  if (diffAt < 0) throw new InputError(`${file}: no diff (a line starting with "--- ") after the header`);
  const why = lines.slice(i + 1, diffAt).join('\n').trim();
  if (!why) throw new InputError(`${file}:${i + 2}: say what the defect does, between the header and the diff`);
  const name = fields.get('Defect')!.value;
  if (`${name}.patch` !== basename(file)) throw new InputError(`${file}:${fields.get('Defect')!.line}: Defect: ${name} must be the file's name without .patch`);
  return { name, side, request: fields.get('Request')!.value, cases: list('Cases'), expect: expect as CheckName[], why, file };
}

/** The case file a defect names, from CASE_DIRS. */
export function caseFile(name: string): string {
  for (const dir of CASE_DIRS) {
    const f = join(dir, `${name}.yaml`);
    if (existsSync(f)) return f;
  }
  throw new InputError(`no case "${name}" in ${CASE_DIRS.join(' or ')}`);
}

/** Every defect of the corpus, kernel side first, each in name order. */
export function loadCorpus(dirs: Record<Side, string> = DEFECT_DIRS): Defect[] {
  const out: Defect[] = [];
  for (const side of ['kernel', 'daemon'] as const) {
    const dir = dirs[side];
    if (!existsSync(dir)) continue;
    for (const f of readdirSync(dir).filter((x) => x.endsWith('.patch')).sort()) {
      const file = join(dir, f);
      out.push(parseDefect(readFileSync(file, 'utf8'), file, side));
    }
  }
  return out;
}
