/**
 * Line, branch and function coverage of the counted files, as gcov reports it, and the two things done
 * with it: merging (a node's counters at each collection into a case's, the cases' into a run's, each line
 * remembering the first case that reached it) and summing up per file and per function. Pure: the
 * counters are read elsewhere (read.ts).
 */

export interface FunctionCoverage {
  startLine: number;
  endLine: number;
  /** Times the function was entered. */
  count: number;
}

export interface FileCoverage {
  /** Executions of each line gcov counts, by line number. */
  lines: Record<string, number>;
  /** Executions of each outcome of each branch on a line, by line number. */
  branches: Record<string, number[]>;
  functions: Record<string, FunctionCoverage>;
  /** The first case that reached each reached line (set by a merge that names its cases). */
  first?: Record<string, string>;
}

/** By file, named `<component>/<path in its source tree>`: `linux/drivers/md/dm-raid1.c`. */
export interface Coverage {
  files: Record<string, FileCoverage>;
}

export const EMPTY: Coverage = { files: {} };

/** What `gcov --json-format --branch-probabilities` says of one source file (only the fields read). */
export interface GcovFile {
  file: string;
  lines: Array<{ line_number: number; count: number; branches: Array<{ count: number }> }>;
  functions: Array<{ name: string; start_line: number; end_line: number; execution_count: number }>;
}

/** One gcov report as Coverage, under `name`; a line gcov lists twice (an inlined copy) counts as their sum. */
export function fromGcov(name: string, g: GcovFile): Coverage {
  const f: FileCoverage = { lines: {}, branches: {}, functions: {} };
  for (const l of g.lines) {
    const k = String(l.line_number);
    f.lines[k] = (f.lines[k] ?? 0) + l.count;
    if (l.branches.length) f.branches[k] = addCounts(f.branches[k], l.branches.map((b) => b.count));
  }
  for (const fn of g.functions) {
    const had = f.functions[fn.name];
    f.functions[fn.name] = { startLine: fn.start_line, endLine: fn.end_line, count: (had?.count ?? 0) + fn.execution_count };
  }
  return { files: { [name]: f } };
}

function addCounts(a: readonly number[] | undefined, b: readonly number[]): number[] {
  if (!a) return [...b];
  const n = Math.max(a.length, b.length);
  return Array.from({ length: n }, (_, i) => (a[i] ?? 0) + (b[i] ?? 0));
}

function mergeFile(a: FileCoverage | undefined, b: FileCoverage, label: string | undefined): FileCoverage {
  const out: FileCoverage = {
    lines: { ...(a?.lines ?? {}) },
    branches: { ...(a?.branches ?? {}) },
    functions: { ...(a?.functions ?? {}) },
  };
  const first: Record<string, string> = { ...(a?.first ?? {}) };
  for (const [line, count] of Object.entries(b.lines)) {
    out.lines[line] = (out.lines[line] ?? 0) + count;
    const by = b.first?.[line] ?? label;
    if (count > 0 && first[line] === undefined && by !== undefined) first[line] = by;
  }
  for (const [line, counts] of Object.entries(b.branches)) out.branches[line] = addCounts(out.branches[line], counts);
  for (const [name, fn] of Object.entries(b.functions)) {
    const had = out.functions[name];
    out.functions[name] = { startLine: fn.startLine, endLine: fn.endLine, count: (had?.count ?? 0) + fn.count };
  }
  if (Object.keys(first).length) out.first = first;
  return out;
}

/**
 * `a` then `b`: counts add up, and a line `a` had not reached that `b` reaches is first reached by `b`'s
 * own first case, else by `label` (the case `b` is).
 */
export function mergeCoverage(a: Coverage, b: Coverage, label?: string): Coverage {
  const files: Record<string, FileCoverage> = { ...a.files };
  for (const [name, f] of Object.entries(b.files)) files[name] = mergeFile(a.files[name], f, label);
  return { files };
}

export interface Ratio {
  hit: number;
  total: number;
}

export function percent(r: Ratio): number {
  return r.total ? Math.round((1000 * r.hit) / r.total) / 10 : 0;
}

export interface FunctionSummary {
  name: string;
  startLine: number;
  count: number;
  lines: Ratio;
}

export interface FileSummary {
  file: string;
  lines: Ratio;
  branches: Ratio;
  functions: Ratio;
  perFunction: FunctionSummary[];
  /** Lines never reached, as ranges of consecutive counted lines: "12-15, 40". */
  unreached: string;
}

function ratio(values: readonly number[]): Ratio {
  return { hit: values.filter((v) => v > 0).length, total: values.length };
}

/** "12-15, 40": ranges of the given line numbers, consecutive among the counted lines. */
export function lineRanges(lines: readonly number[], counted: readonly number[]): string {
  const sorted = [...lines].sort((x, y) => x - y);
  const order = new Map([...counted].sort((x, y) => x - y).map((l, i) => [l, i]));
  const ranges: Array<[number, number]> = [];
  for (const l of sorted) {
    const last = ranges[ranges.length - 1];
    if (last && order.get(l) === (order.get(last[1]) ?? -2) + 1) last[1] = l;
    else ranges.push([l, l]);
  }
  return ranges.map(([s, e]) => (s === e ? `${s}` : `${s}-${e}`)).join(', ');
}

export function summarizeFile(file: string, f: FileCoverage): FileSummary {
  const counted = Object.keys(f.lines).map(Number);
  const perFunction = Object.entries(f.functions)
    .map(([name, fn]) => ({
      name,
      startLine: fn.startLine,
      count: fn.count,
      lines: ratio(counted.filter((l) => l >= fn.startLine && l <= fn.endLine).map((l) => f.lines[String(l)]!)),
    }))
    .sort((x, y) => x.startLine - y.startLine);
  return {
    file,
    lines: ratio(Object.values(f.lines)),
    branches: ratio(Object.values(f.branches).flat()),
    functions: ratio(Object.values(f.functions).map((fn) => fn.count)),
    perFunction,
    unreached: lineRanges(counted.filter((l) => f.lines[String(l)] === 0), counted),
  };
}

export function summarize(c: Coverage): FileSummary[] {
  return Object.keys(c.files)
    .sort()
    .map((name) => summarizeFile(name, c.files[name]!));
}
