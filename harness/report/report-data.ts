/**
 * What report.html shows, read from a run directory alone: summary.json (every case of the run, passing
 * ones included, whose directories are gone) and each kept case directory (history.jsonl, findings.json,
 * the writers' logs). Everything here is plain data on one time axis, seconds since each case started;
 * html.ts inlines it into the page.
 */
import { closeSync, existsSync, openSync, readdirSync, readFileSync, readSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { faultSpec, type FaultKind } from '../case/fault-kinds.ts';
import type { Case } from '../case/schema.ts';
import { parseHistory, type HistoryEntry } from '../record/history.ts';
import { parseDmStatus, type MirrorStatus } from '../oracle/dm-status.ts';
import { parseWriterLog, type WriterEvent } from '../oracle/writer-log.ts';
import { CASE_END, CASE_START, entriesOf, type CaseEndFields, type CheckFields, type FaultFields, type HangFields, type PollFields, type SampleFields, type StepFields } from '../record/events.ts';
import { FINDINGS_FILE, HISTORY_FILE, WRITES_DIR, type Point } from '../record/layout.ts';
import { CaseRecord, caseDirsIn } from '../record/read.ts';
import { caseName } from '../judge/result.ts';
import type { Outcome } from '../case/outcome.ts';
import type { FindingRef } from '../judge/known-failure.ts';
import { describeBug } from '../case/known-bugs.ts';
import { errorMessage } from '../base/errors.ts';
import { replayCommand, tally } from './junit.ts';
import { loadSummaries, type SummaryCase } from './merge.ts';
import { readRunCoverage, sourcesDir } from '../coverage/record.ts';
import type { FileSummary } from '../coverage/coverage.ts';

/** Written next to report.html at the end of every run: what the index lists for cases no longer on disk. */
export const SUMMARY_FILE = 'summary.json';
export const REPORT_FILE = 'report.html';
/** Written by `clogtest explore` in its run directory: its scenarios and the failures it told apart. */
export const EXPLORE_FILE = 'explore.json';

/** A case's outcome, or 'did not finish' for a kept case whose history has no end. */
export type Verdict = Outcome | 'did not finish';

export interface IndexRow {
  name: string;
  iteration: number;
  verdict: Verdict;
  seed: number;
  durationMs: number;
  file: string;
  tags: string[];
  failedChecks: string[];
  /** The known failure in force: its bugs, described. */
  knownFailure: string | null;
  /** How many findings the known bugs explain, and those they do not. */
  explained: number;
  unexplained: FindingRef[];
  /** Relative to the run directory; null when the case passed and its directory was removed. */
  dir: string | null;
  replay: string;
}

/** A span on a node's lane (a fault from injection to its undoing) or on the case lane (a step). */
export interface Span {
  lane: string;
  kind: string;
  label: string;
  from: number;
  to: number;
}

export interface Mark {
  lane: string;
  kind: 'hang' | 'sample' | 'membership' | 'health' | 'fault' | 'finding';
  label: string;
  at: number;
  /** A finding's index in CaseView.findings: its mark links to it. */
  finding?: number;
}

export interface NodeSeries {
  node: number;
  /** Acknowledged operations: [ack time s, latency ms] pairs, writes and reads apart. */
  writes: Array<[number, number]>;
  reads: Array<[number, number]>;
  /** [poll time s, regions in sync] from the node's dmsetup status. */
  sync: Array<[number, number]>;
}

export interface FindingView {
  check: string;
  invariant: string;
  message: string;
  point: string;
  at: number;
  region?: number;
  node?: number;
  block?: number;
  /** What each leg holds there, as the check said it ("clog0/leg0 node3 seq 1"). */
  legs?: string[];
  /** The block's first bytes on each leg, side by side, when the legs were kept. */
  hex?: Array<{ leg: string; lines: string[] }>;
  /** The writer-log entries of that block: who wrote which sequence number, issued and acknowledged when (s). */
  writes?: Array<{ node: number; seq: number; issued: number; acked: number | null }>;
}

/** How much of a differing block the report shows: its header (node, seq, run, checksum) and more. */
const HEX_BYTES = 128;

export interface CaseView {
  key: string;
  row: IndexRow;
  description: string;
  endS: number;
  regions: number | null;
  lanes: string[];
  spans: Span[];
  marks: Mark[];
  series: NodeSeries[];
  findings: FindingView[];
  artifacts: Array<{ path: string; bytes: number }>;
  /** Something in the directory could not be read; the rest is shown. */
  problems: string[];
}

/** A counted file as the report shows it: its figures, and each line with its count and the first case that reached it. */
export interface CoverageFileView extends FileSummary {
  /** The source, one entry a line (empty when the run directory has no copy of it). */
  source: string[];
  counts: Record<string, number>;
  first: Record<string, string>;
}

/** With --coverage: the run's coverage (runs/<id>/coverage/). */
export interface CoverageView {
  cases: string[];
  lost: string[];
  files: CoverageFileView[];
}

/** With `clogtest explore`: every failure it told apart, with its count, first seed and minimal case. */
export interface ExploreView {
  seed: number;
  scenarios: number;
  exploreMs: number;
  shrinkMs: number;
  fixes: boolean;
  failures: Array<{
    slug: string;
    signature: string;
    known: number[] | null;
    count: number;
    firstSeed: number;
    /** Paths relative to the run directory. */
    firstScenario: string;
    minimal: { file: string; steps: number; runs: number; cutShort: boolean } | null;
  }>;
}

export interface ReportData {
  runDir: string;
  generated: string;
  totals: { passed: number; failed: number; skipped: number };
  rows: IndexRow[];
  cases: CaseView[];
  coverage?: CoverageView;
  explore?: ExploreView;
}

interface ExploreFile {
  seed: number;
  exploreMs: number;
  shrinkMs: number;
  fixes: boolean;
  scenarios: unknown[];
  failures: Array<{ slug: string; signature: string; known?: number[]; count: number; firstSeed: number; firstScenario: string; minimal?: { file: string; steps: number; runs: number; cutShort: boolean } }>;
}

function exploreView(runDir: string): ExploreView | undefined {
  const file = join(runDir, EXPLORE_FILE);
  if (!existsSync(file)) return undefined;
  const ex = JSON.parse(readFileSync(file, 'utf8')) as ExploreFile;
  return {
    seed: ex.seed,
    scenarios: ex.scenarios.length,
    exploreMs: ex.exploreMs,
    shrinkMs: ex.shrinkMs,
    fixes: ex.fixes,
    failures: ex.failures.map((f) => ({
      slug: f.slug,
      signature: f.signature,
      known: f.known ?? null,
      count: f.count,
      firstSeed: f.firstSeed,
      firstScenario: relative(runDir, f.firstScenario),
      minimal: f.minimal ? { ...f.minimal, file: relative(runDir, f.minimal.file) } : null,
    })),
  };
}

function coverageView(runDir: string): CoverageView | undefined {
  const run = readRunCoverage(runDir);
  if (!run) return undefined;
  return {
    cases: run.cases,
    lost: run.lost,
    files: run.files.map((f) => {
      const src = join(sourcesDir(runDir), f.file);
      const cov = run.coverage.files[f.file]!;
      return { ...f, source: existsSync(src) ? readFileSync(src, 'utf8').split('\n') : [], counts: cov.lines, first: cov.first ?? {} };
    }),
  };
}


function rowFromSummary(runDir: string, c: SummaryCase): IndexRow {
  return {
    name: caseName(c),
    iteration: c.iteration,
    verdict: c.outcome,
    seed: c.seed,
    durationMs: c.durationMs,
    file: c.file,
    tags: c.tags ?? [],
    failedChecks: [...new Set((c.verdicts ?? []).filter((v) => v.valid === false).map((v) => v.check))],
    knownFailure: c.known?.description ?? null,
    explained: c.known?.explained.length ?? 0,
    unexplained: c.known?.unexplained ?? [],
    dir: existsSync(join(c.dir, HISTORY_FILE)) ? relative(runDir, c.dir) : null,
    replay: c.replay ?? replayCommand(c.file, c.seed),
  };
}

/** For a kept case of a run without summary.json: the row its history says, the outcome as the run decided it. */
function rowFromHistory(runDir: string, dir: string, entries: readonly HistoryEntry[]): IndexRow {
  const start = entries.find((e) => e.what === CASE_START);
  const c = start?.case as Case | undefined;
  const end = entries.find((e) => e.what === CASE_END) as (HistoryEntry & Partial<CaseEndFields>) | undefined;
  const failed = entriesOf<CheckFields>(entries, 'check').filter((e) => e.valid === false).map((e) => e.check);
  const seed = typeof start?.seed === 'number' ? start.seed : 0;
  const file = c?.file ?? '?';
  return {
    name: c ? caseName({ name: c.name, ...(typeof start?.stack === 'string' ? { stack: start.stack } : {}) }) : dir,
    iteration: 1,
    // A case directory whose history has no end: the run was stopped, or is still going.
    verdict: end?.outcome ?? 'did not finish',
    seed,
    durationMs: typeof end?.durationMs === 'number' ? end.durationMs : (entries.at(-1)?.ms ?? 0),
    file,
    tags: c?.tags ?? [],
    failedChecks: [...new Set(failed)],
    knownFailure: end?.known ? end.known.bugs.map(describeBug).join(', ') : null,
    explained: end?.known?.explained ?? 0,
    unexplained: [],
    dir: relative(runDir, dir),
    replay: replayCommand(file, seed),
  };
}

const s = (ms: number) => Math.round(ms) / 1000;

/** What run/faults/index.ts:healAll undoes at a case's start and end: everything but a node or daemon gone. */
const HEAL_ALL_UNDOES: ReadonlySet<string> = new Set(['heal', 'resume', 'restore-leg', 'restore-log']);

/** Faults that last until another fault undoes them are drawn as spans on their nodes' lanes; the rest as marks. */
function faultSpans(entries: readonly HistoryEntry[], endMs: number): { spans: Span[]; marks: Mark[] } {
  const spans: Span[] = [];
  const marks: Mark[] = [];
  const open: Array<{ lane: string; kind: FaultKind; label: string; from: number }> = [];
  const close = (lanes: readonly string[] | 'all', undoes: (recovery: string | undefined) => boolean, at: number) => {
    for (const f of [...open]) {
      if ((lanes !== 'all' && !lanes.includes(f.lane)) || !undoes(faultSpec(f.kind).recovery)) continue;
      spans.push({ lane: f.lane, kind: f.kind, label: f.label, from: s(f.from), to: s(at) });
      open.splice(open.indexOf(f), 1);
    }
  };
  for (const f of entriesOf<FaultFields>(entries, 'fault')) {
    // heal-all records only its 'done'; every other fault counts from its 'start'.
    if (f.fault === 'heal-all') {
      close('all', (r) => r !== undefined && HEAL_ALL_UNDOES.has(r), f.ms);
      continue;
    }
    if (f.event !== 'start') continue;
    const lanes = f.nodes.length ? f.nodes.map((n) => `node${n}`) : ['steps'];
    const label = [f.fault, ...Object.entries(f.params ?? {}).filter(([k]) => k !== 'kind').map(([k, v]) => `${k}=${JSON.stringify(v)}`)].join(' ');
    if (faultSpec(f.fault).recovery !== undefined) {
      for (const lane of lanes) open.push({ lane, kind: f.fault, label, from: f.ms });
      continue;
    }
    // An undoing fault that names no nodes (heal) undoes on every lane.
    close(f.nodes.length ? lanes : 'all', (r) => r === f.fault, f.ms);
    for (const lane of lanes) marks.push({ lane, kind: 'fault', label, at: s(f.ms) });
  }
  for (const f of open) spans.push({ lane: f.lane, kind: f.kind, label: `${f.label} (not undone)`, from: s(f.from), to: s(endMs) });
  return { spans, marks };
}

function stepSpans(entries: readonly HistoryEntry[], endMs: number): Span[] {
  const started = new Map<number, HistoryEntry & StepFields>();
  const spans: Span[] = [];
  for (const st of entriesOf<StepFields>(entries, 'step')) {
    if (st.event === 'start') started.set(st.step, st);
    else {
      const from = started.get(st.step);
      if (from) spans.push({ lane: 'steps', kind: st.kind, label: st.what, from: s(from.ms), to: s(st.ms) });
      started.delete(st.step);
    }
  }
  // A step that hung has no 'done': it lasted until its error, or the end.
  for (const st of started.values()) {
    const err = entries.find((e) => e.type === 'error' && e.step === st.step);
    spans.push({ lane: 'steps', kind: st.kind, label: `${st.what} (did not finish)`, from: s(st.ms), to: s(err?.ms ?? endMs) });
  }
  return spans;
}

/** The mirrors a poll's `dmsetup status` shows; none before the mirror is created ("No devices found") or when it cannot be read. */
function mirrorStatuses(status: string): MirrorStatus[] {
  try {
    return parseDmStatus(status);
  } catch {
    return [];
  }
}

/** A poll with its `dmsetup status` read once (absent when the poll carried none). */
type ReadPoll = HistoryEntry & PollFields & { mirrors?: MirrorStatus[] };

function readPolls(entries: readonly HistoryEntry[]): ReadPoll[] {
  return entriesOf<PollFields>(entries, 'poll').map((p) => ({ ...p, ...(p.status !== undefined && { mirrors: mirrorStatuses(p.status) }) }));
}

/** What a node's dmsetup status says of each mirror's legs and log ("clog0 legs AD, log A"), for its changes. */
function healthOf(mirrors: readonly MirrorStatus[]): string {
  return (
    mirrors
      .map((m) => `${m.name} legs ${m.legs.map((l) => l.health).join('')}${m.log.kind === 'disk' ? `, log ${m.log.health}` : m.log.kind === 'com-failure' ? ', log COM_FAILURE' : ''}`)
      .join('; ') || 'no mirror'
  );
}

function historyMarks(entries: readonly HistoryEntry[], polls: readonly ReadPoll[]): Mark[] {
  const marks: Mark[] = [
    ...entriesOf<HangFields>(entries, 'hang').map((e): Mark => ({ lane: 'steps', kind: 'hang', label: e.what, at: s(e.ms) })),
    ...entriesOf<SampleFields>(entries, 'sample').map((e): Mark => ({ lane: 'steps', kind: 'sample', label: `sample ${e.sample}: ${e.trigger}`, at: s(e.ms) })),
  ];
  const members = new Map<number, string>();
  const health = new Map<number, string>();
  for (const p of polls) {
    // The lowest id in a log's group serves it (writes the disk log).
    const seen =
      Object.entries(p.groups)
        .map(([uuid, ids]) => `${uuid.replace(/^clogtest-/, '')}: ${ids.join(',')} (server ${Math.min(...ids)})`)
        .join('; ') || 'in no log group';
    if (members.get(p.node) !== seen) marks.push({ lane: `node${p.node}`, kind: 'membership', label: `members ${seen}${p.daemon ? '' : ' (cmirrord not running)'}`, at: s(p.ms) });
    members.set(p.node, seen);
    const h = p.mirrors && healthOf(p.mirrors);
    if (h !== undefined && health.get(p.node) !== h) marks.push({ lane: `node${p.node}`, kind: 'health', label: h, at: s(p.ms) });
    if (h !== undefined) health.set(p.node, h);
  }
  return marks;
}

function writerEvents(caseDir: string, problems: string[]): WriterEvent[] {
  const dir = join(caseDir, WRITES_DIR);
  return (existsSync(dir) ? readdirSync(dir).filter((x) => x.endsWith('.jsonl')) : []).flatMap((f) => {
    try {
      return parseWriterLog(readFileSync(join(dir, f), 'utf8'), f);
    } catch (err) {
      problems.push(`${WRITES_DIR}/${f}: ${errorMessage(err)}`);
      return [];
    }
  });
}

function nodeSeries(events: readonly WriterEvent[], polls: readonly ReadPoll[], epochMs: number, nodes: number): NodeSeries[] {
  const series = Array.from({ length: nodes }, (_, i): NodeSeries => ({ node: i + 1, writes: [], reads: [], sync: [] }));
  const at = (ns: number) => s(ns / 1e6 - epochMs);
  for (const ev of events) {
    const n = series[ev.node - 1];
    if (!n || ev.op === 'write-start' || ev.start === undefined) continue;
    (ev.op === 'write' ? n.writes : n.reads).push([at(ev.t), Math.round((ev.t - ev.start) / 1e5) / 10]);
  }
  for (const p of polls) {
    const first = p.mirrors?.[0];
    if (first) series[p.node - 1]?.sync.push([s(p.ms), first.synced]);
  }
  for (const n of series) for (const list of [n.writes, n.reads]) list.sort((a, b) => a[0] - b[0]);
  return series;
}

function hexLines(buf: Buffer): string[] {
  const out: string[] = [];
  for (let i = 0; i < buf.length; i += 16) {
    const row = buf.subarray(i, i + 16);
    out.push(`${i.toString(16).padStart(4, '0')}  ${[...row].map((b) => b.toString(16).padStart(2, '0')).join(' ')}`);
  }
  return out;
}

/** The first bytes of the finding's block on every leg of its mirror ("clogM/..." in its legs), read from the kept disks. */
function blockHex(rec: CaseRecord | undefined, point: string, offset: unknown, legs: unknown): FindingView['hex'] {
  if (!rec || typeof offset !== 'number' || !Array.isArray(legs)) return undefined;
  const m = /^clog(\d+)\//.exec(String(legs[0]));
  const mirror = m ? rec.mirrors[Number(m[1])] : undefined;
  if (!mirror) return undefined;
  try {
    return mirror.legs.map((l) => {
      const buf = Buffer.alloc(HEX_BYTES);
      const fd = openSync(rec.disk(point as Point, l.serial), 'r');
      try {
        readSync(fd, buf, 0, HEX_BYTES, offset);
      } finally {
        closeSync(fd);
      }
      return { leg: `${mirror.name}/${l.serial.replace(/^.*(leg\d+)$/, '$1')}`, lines: hexLines(buf) };
    });
  } catch {
    // Disks not kept (a check step's point without --keep): the message still says what differs.
    return undefined;
  }
}

/** Every write of `block` the writers logged, issued or acknowledged, oldest first. */
function blockWrites(events: readonly WriterEvent[], block: number, epochMs: number): NonNullable<FindingView['writes']> {
  const byWrite = new Map<string, { node: number; seq: number; issued: number; acked: number | null }>();
  for (const ev of events) {
    if (ev.op === 'read' || ev.block !== block) continue;
    const key = `${ev.node}/${ev.seq}`;
    const w = byWrite.get(key) ?? { node: ev.node, seq: ev.seq, issued: s((ev.start ?? ev.t) / 1e6 - epochMs), acked: null };
    if (ev.op === 'write') w.acked = s(ev.t / 1e6 - epochMs);
    byWrite.set(key, w);
  }
  return [...byWrite.values()].sort((a, b) => a.issued - b.issued);
}

function findingViews(caseDir: string, entries: readonly HistoryEntry[], events: readonly WriterEvent[], epochMs: number, problems: string[]): FindingView[] {
  const file = join(caseDir, FINDINGS_FILE);
  if (!existsSync(file)) return [];
  let raw: Array<Record<string, unknown>>;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8')) as Array<Record<string, unknown>>;
  } catch (err) {
    problems.push(`${FINDINGS_FILE}: ${errorMessage(err)}`);
    return [];
  }
  const judgedAt = (check: unknown, point: unknown) => entries.find((e) => e.type === 'check' && e.check === check && e.point === point)?.ms ?? entries.at(-1)?.ms ?? 0;
  const num = (v: unknown) => (typeof v === 'number' ? v : undefined);
  let rec: CaseRecord | undefined;
  try {
    rec = CaseRecord.read(caseDir);
  } catch (err) {
    problems.push(`no hex view of differing blocks: ${errorMessage(err)}`);
  }
  return raw.map((f): FindingView => ({
    check: String(f.check),
    invariant: String(f.invariant ?? f.check),
    message: String(f.message ?? ''),
    point: String(f.point ?? 'end'),
    at: s(judgedAt(f.check, f.point)),
    ...(num(f.region) !== undefined && { region: num(f.region) }),
    ...(num(f.node) !== undefined && { node: num(f.node) }),
    ...(num(f.block) !== undefined && { block: num(f.block) }),
    ...(Array.isArray(f.legs) && { legs: (f.legs as unknown[]).map(String) }),
    ...(num(f.block) !== undefined && { hex: blockHex(rec, String(f.point ?? 'end'), f.offset, f.legs), writes: blockWrites(events, num(f.block)!, epochMs) }),
  }));
}

function artifacts(runDir: string, caseDir: string): Array<{ path: string; bytes: number }> {
  const out: Array<{ path: string; bytes: number }> = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      const st = statSync(p);
      if (st.isDirectory()) walk(p);
      else out.push({ path: relative(runDir, p), bytes: st.size });
    }
  };
  walk(caseDir);
  return out;
}

export function caseView(runDir: string, caseDir: string, row: IndexRow): CaseView {
  const entries = parseHistory(readFileSync(join(caseDir, HISTORY_FILE), 'utf8'));
  const problems: string[] = [];
  const first = entries[0];
  const epochMs = first ? Date.parse(first.t) - first.ms : 0;
  const c = entries.find((e) => e.what === CASE_START)?.case as Case | undefined;
  const endMs = entries.at(-1)?.ms ?? 0;
  const nodes = c?.topology.nodes ?? 0;
  const faults = faultSpans(entries, endMs);
  const events = writerEvents(caseDir, problems);
  const polls = readPolls(entries);
  const series = nodeSeries(events, polls, epochMs, nodes);
  const findings = findingViews(caseDir, entries, events, epochMs, problems);
  return {
    key: row.dir ?? row.name,
    row,
    description: c?.description ?? '',
    endS: s(endMs),
    regions: c ? Math.ceil(c.topology.legSize / c.topology.regionSize) : null,
    lanes: ['steps', ...Array.from({ length: nodes }, (_, i) => `node${i + 1}`)],
    spans: [...stepSpans(entries, endMs), ...faults.spans],
    marks: [
      ...faults.marks,
      ...historyMarks(entries, polls),
      ...findings.map((f, i): Mark => ({ lane: f.node ? `node${f.node}` : 'steps', kind: 'finding', label: `${f.check}: ${f.message}`, at: f.at, finding: i })),
    ],
    series,
    findings,
    artifacts: artifacts(runDir, caseDir),
    problems,
  };
}

/** Every case of the run: from summary.json when the run wrote one, else from the kept case directories. */
export function readReportData(runDir: string, now = new Date()): ReportData {
  const summaryFile = join(runDir, SUMMARY_FILE);
  const summary = existsSync(summaryFile) ? loadSummaries([summaryFile])[0] : undefined;
  const coverage = coverageView(runDir);
  const explore = exploreView(runDir);
  const rows = summary
    ? summary.cases.map((c) => rowFromSummary(runDir, c))
    : caseDirsIn(runDir).map((d) => rowFromHistory(runDir, d, parseHistory(readFileSync(join(d, HISTORY_FILE), 'utf8'))));
  return {
    runDir,
    generated: now.toISOString(),
    totals: summary
      ? { passed: summary.passed, failed: summary.failed, skipped: summary.skipped }
      : tally(rows.map((r) => (r.verdict === 'did not finish' ? 'infra' : r.verdict))),
    rows,
    cases: rows.flatMap((r) => (r.dir === null ? [] : [caseView(runDir, join(runDir, r.dir), r)])),
    ...(coverage ? { coverage } : {}),
    ...(explore ? { explore } : {}),
  };
}
