/** Which case files a command runs: discovery, --tag / --grep filters, --shard i/n and --repeat N. */
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '../base/errors.ts';
import type { Case } from './schema.ts';

const CASE_FILE = /\.ya?ml$/;

/** Files as given, directories as their *.yaml / *.yml files (not recursive), sorted, each path once. */
export function findCaseFiles(args: readonly string[]): string[] {
  const files: string[] = [];
  for (const arg of args) {
    let isDir: boolean;
    try {
      isDir = statSync(arg).isDirectory();
    } catch {
      throw new InputError(`${arg}: no such case file or directory`);
    }
    if (!isDir) {
      files.push(arg);
      continue;
    }
    const inside = readdirSync(arg)
      .filter((f) => CASE_FILE.test(f))
      .sort()
      .map((f) => join(arg, f));
    if (inside.length === 0) throw new InputError(`${arg}: directory holds no *.yaml case`);
    files.push(...inside);
  }
  return [...new Set(files)];
}

export interface Filter {
  /** A case matches if it has any plain tag given and none of the "!tag" ones. */
  tags?: readonly string[];
  /** Regular expression, case-insensitive, matched against the case name and file path. */
  grep?: string;
}

export function filterCases<C extends Pick<Case, 'name' | 'file' | 'tags'>>(cases: readonly C[], filter: Filter): C[] {
  const want = (filter.tags ?? []).filter((t) => !t.startsWith('!'));
  const avoid = (filter.tags ?? []).filter((t) => t.startsWith('!')).map((t) => t.slice(1));
  let re: RegExp | undefined;
  if (filter.grep !== undefined) {
    try {
      re = new RegExp(filter.grep, 'i');
    } catch (err) {
      throw new InputError(`--grep: not a valid regular expression: ${(err as Error).message}`);
    }
  }
  return cases.filter(
    (c) =>
      (want.length === 0 || want.some((t) => c.tags.includes(t))) &&
      !avoid.some((t) => c.tags.includes(t)) &&
      (!re || re.test(c.name) || re.test(c.file)),
  );
}

export function parseShard(raw: string): { index: number; count: number } {
  const m = /^(\d+)\/(\d+)$/.exec(raw);
  const index = Number(m?.[1]);
  const count = Number(m?.[2]);
  if (!m || count < 1 || index < 1 || index > count)
    throw new InputError(`--shard must be i/n with 1 <= i <= n, like 1/2, got "${raw}"`);
  return { index, count };
}

/**
 * Shard `index` of `count` (1-based): the cases whose position in path order is
 * index-1 modulo count. Every runner sorts the same way, so shards 1..n partition the list
 * whatever order the files were given in.
 */
export function shard<C extends Pick<Case, 'file' | 'name'>>(cases: readonly C[], index: number, count: number): C[] {
  if (!(Number.isInteger(count) && count >= 1 && Number.isInteger(index) && index >= 1 && index <= count))
    throw new InputError(`shard ${index}/${count}: need 1 <= i <= n`);
  const sorted = [...cases].sort((a, b) => compare(a.file, b.file) || compare(a.name, b.name));
  return sorted.filter((_, i) => i % count === index - 1);
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export interface Planned<C> {
  case: C;
  /** 1-based; names the run directory when a case runs more than once. */
  iteration: number;
}

/** Each case `times` times in a row, so a flaky case's runs sit together in the report. */
export function repeat<C>(cases: readonly C[], times: number): Array<Planned<C>> {
  if (!Number.isInteger(times) || times < 1) throw new InputError(`--repeat must be a whole number of at least 1, got ${times}`);
  return cases.flatMap((c) => Array.from({ length: times }, (_, i) => ({ case: c, iteration: i + 1 })));
}
