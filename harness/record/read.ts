/**
 * A case directory read back: the one source of inputs for every check. The runner judges its own case
 * through this reader right after recording the evidence, and `clogtest check` judges a kept directory
 * through the same reader, so their verdicts agree by construction.
 */
import { existsSync, openSync, readdirSync, readFileSync, readSync, closeSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { faultSpec, type FaultFlag } from '../case/fault-kinds.ts';
import { knownFailureInForce } from '../case/known-bugs.ts';
import { createsMirror, mirrorBlockBytes, type Case, type CheckName, type KnownFailure, type Workload } from '../case/schema.ts';
import { clockSkewNs, UNMEASURED_SKEW_NS, type ClockReading } from '../guest/cluster/clock.ts';
import { InputError } from '../base/errors.ts';
import { parseHistory, type HistoryEntry } from './history.ts';
import { mirrorLayouts, mirrorUuid, type MirrorLayout } from '../guest/mirror/table.ts';
import { parseWriterLog, type WriterEvent } from '../oracle/writer-log.ts';
import { corosyncLogs, describeEviction, ringDepartures, unplannedEvictions, type UnplannedEviction } from './ring.ts';
import {
  CASE_START,
  CLUSTER_UP,
  entriesOf,
  type CaseStartFields,
  type ClocksFields,
  type EvidenceFields,
  type StepFields,
  type FaultFields,
  type HangFields,
  type PollFields,
  type SampleFields,
  type InvalidTableFields,
  type WorkloadStartFields,
} from './events.ts';
import { EVIDENCE_FILES, evidenceDir, HISTORY_FILE, type Point } from './layout.ts';

/** A fault's span on the host's timeline: from its start until what undid it ended (or the case ended). */
export interface FaultWindow {
  fault: string;
  nodes: number[];
  fromMs: number;
  toMs: number;
}

/** After a disturbing fault is undone, nodes may take this long to settle (membership, resync of a rejoined node). */
export const SETTLE_MS = 15_000;

/** Every node a fault of the case targeted (the closing heal-all targets none). */
export function faultedNodes(entries: readonly HistoryEntry[]): number[] {
  const nodes = entriesOf<FaultFields>(entries, 'fault').flatMap((f) => (f.event === 'start' && f.fault !== 'heal-all' ? f.nodes : []));
  return [...new Set(nodes)].sort((a, b) => a - b);
}

/** The case directories (each with its history.jsonl) in a run directory, in name order. */
export function caseDirsIn(runDir: string): string[] {
  return readdirSync(runDir)
    .map((d) => join(runDir, d))
    .filter((d) => existsSync(join(d, HISTORY_FILE)))
    .sort();
}

export class CaseRecord {
  readonly case: Case;
  readonly seed: number;
  readonly runId: number;
  readonly fixes: boolean;
  readonly mirrors: MirrorLayout[];
  readonly uuids: string[];
  private writerLogs: Map<string, WriterEvent[]> | undefined;

  private constructor(
    readonly dir: string,
    readonly entries: HistoryEntry[],
  ) {
    const start = entries.find((e) => e.what === CASE_START) as (HistoryEntry & CaseStartFields) | undefined;
    if (!start || typeof start.case !== 'object' || typeof start.runId !== 'number') {
      throw new InputError(`${join(dir, HISTORY_FILE)} has no "case start" event with the case and its run id (a case run by an older clogtest?)`);
    }
    this.case = start.case;
    this.seed = start.seed;
    this.runId = start.runId;
    this.fixes = start.fixes ?? false;
    this.mirrors = mirrorLayouts(this.case.topology);
    this.uuids = this.mirrors.map((m) => mirrorUuid(this.runId, m.index));
  }

  static read(dir: string): CaseRecord {
    const file = join(dir, HISTORY_FILE);
    if (!existsSync(file)) throw new InputError(`${dir} is not a case directory: no ${HISTORY_FILE}`);
    return new CaseRecord(dir, parseHistory(readFileSync(file, 'utf8')));
  }

  /** The evidence event of a point; checks at that point see only what happened up to it. */
  evidence(point: Point): HistoryEntry & EvidenceFields {
    const e = entriesOf<EvidenceFields>(this.entries, 'evidence').find((x) => x.point === point);
    if (!e) throw new Error(`no evidence was recorded at ${point}`);
    return e;
  }

  /** Entries up to and including the evidence of `point`. */
  until(point: Point): HistoryEntry[] {
    const at = this.entries.indexOf(this.evidence(point));
    return this.entries.slice(0, at + 1);
  }

  /** The checks the case's check steps name: each must judge something. */
  listedChecks(): CheckName[] {
    return [...new Set(this.case.steps.flatMap((s) => (s.kind === 'check' ? s.checks : [])))];
  }

  /** A file a node left at a point, or undefined when the node was not live there. */
  nodeFile(point: Point, what: keyof typeof EVIDENCE_FILES, node: number): string | undefined {
    const f = join(evidenceDir(this.dir, point), EVIDENCE_FILES[what](node));
    return existsSync(f) ? readFileSync(f, 'utf8') : undefined;
  }

  /** The shared disk file of `serial` as it was at `point`. */
  disk(point: Point, serial: string): string {
    const file =
      point === 'end'
        ? join(this.clusterDir(), 'disks', `${serial}.img`)
        : join(evidenceDir(this.dir, point), 'disks', `${serial}.img`);
    if (!existsSync(file)) throw new Error(`shared disk ${serial} was not kept (${file}); run the case with --keep`);
    return file;
  }

  /** The cluster's directory inside the case directory (the one with cluster.json). */
  clusterDir(): string {
    const d = readdirSync(this.dir)
      .map((x) => join(this.dir, x))
      .find((x) => existsSync(join(x, 'cluster.json')));
    if (!d) throw new Error(`no cluster directory (*/cluster.json) in ${this.dir}`);
    return d;
  }

  /** The malformed tables `mirror: load-invalid` steps tried up to `point`, and what became of them. */
  invalidTables(point: Point): Array<HistoryEntry & InvalidTableFields> {
    return entriesOf<InvalidTableFields>(this.until(point), 'table');
  }

  /** Every workload process started up to `point`, with its mirror and log. */
  workloadProcs(point: Point): Array<HistoryEntry & WorkloadStartFields> {
    return entriesOf<WorkloadStartFields>(this.until(point), 'workload').filter((e) => e.event === 'start');
  }

  /** The workloads of the case's steps that write mirror m. */
  workloadsOf(mirror: number): Workload[] {
    return this.case.steps.flatMap((s) => (s.kind === 'workload' && s.workload.mirror === mirror ? [s.workload] : []));
  }

  /** The block size mirror m's writes are judged in (case/schema.ts mirrorBlockBytes). */
  blockBytes(mirror: number): number {
    return mirrorBlockBytes(this.case, mirror);
  }

  /** Writer and reader events on mirror m, as far as the logs had been written at `point`. */
  writerEvents(point: Point, mirror: number): WriterEvent[] {
    const lengths = this.evidence(point).writerLogBytes;
    return this.workloadProcs(point)
      .filter((p) => p.mirror === mirror)
      .flatMap((p) => this.writerLog(p.log, lengths[p.log] ?? 0));
  }

  private writerLog(rel: string, bytes: number): WriterEvent[] {
    this.writerLogs ??= new Map();
    const key = `${rel}@${bytes}`;
    let events = this.writerLogs.get(key);
    if (!events) {
      const file = join(this.dir, rel);
      events = existsSync(file) ? parseWriterLog(readPrefix(file, bytes), file) : [];
      this.writerLogs.set(key, events);
    }
    return events;
  }

  samples(point: Point): Array<HistoryEntry & SampleFields> {
    return entriesOf<SampleFields>(this.until(point), 'sample');
  }

  polls(point: Point): Array<HistoryEntry & PollFields> {
    return entriesOf<PollFields>(this.until(point), 'poll');
  }

  hangs(point: Point): Array<HistoryEntry & HangFields> {
    return entriesOf<HangFields>(this.until(point), 'hang');
  }

  steps(point: Point): Array<HistoryEntry & StepFields> {
    return entriesOf<StepFields>(this.until(point), 'step');
  }

  /** Each `mirror:` step begun before `point`: its operation, when it started, and when it was done (if it was). */
  mirrorSteps(point: Point): Array<{ op: StepFields['op']; nodes?: number[]; fromMs: number; doneMs?: number }> {
    const steps = this.steps(point);
    return steps
      .filter((s) => s.event === 'start' && s.kind === 'mirror')
      .map((s) => ({ op: s.op, ...(s.nodes ? { nodes: s.nodes } : {}), fromMs: s.ms, doneMs: steps.find((d) => d.event === 'done' && d.step === s.step)?.ms }));
  }

  /** Whether a `mirror: create` step finished before `point`: before that, no log device holds anything. */
  mirrorCreated(point: Point): boolean {
    return this.mirrorSteps(point).some((s) => createsMirror(s.op) && s.doneMs !== undefined);
  }

  /** Steps that finished, plus those that hung: what no-hang judged. */
  stepsRun(point: Point): number {
    return this.steps(point).filter((e) => e.event === 'done').length + this.hangs(point).length;
  }

  faults(point: Point): Array<HistoryEntry & FaultFields> {
    return entriesOf<FaultFields>(this.until(point), 'fault');
  }

  /** Every guest clock reading up to `point`: what bounds the ordering of events on different nodes. */
  clockSkewNs(point: Point): number {
    const readings = entriesOf<ClocksFields>(this.until(point), 'clocks').flatMap((e) => e.readings as ClockReading[]);
    return readings.length ? clockSkewNs(readings) : UNMEASURED_SKEW_NS;
  }

  /** The faults started up to `point` whose kind has `flag` in the fault table (the closing heal-all has none). */
  faultsStartedWith(point: Point, flag: FaultFlag): Array<HistoryEntry & FaultFields> {
    return this.faults(point).filter((f) => f.event === 'start' && f.fault !== 'heal-all' && faultSpec(f.fault)[flag]);
  }

  faultedNodes(): number[] {
    return faultedNodes(this.entries);
  }

  /**
   * Nodes that left the corosync ring more often than the case's faults fenced them, from the corosync logs
   * the tear-down pulled (see ring.ts); none when the logs were not pulled.
   */
  unplannedEvictions(): UnplannedEviction[] {
    const up = this.entries.find((e) => e.what === CLUSTER_UP);
    if (!up) return [];
    let clusterDir: string;
    try {
      clusterDir = this.clusterDir();
    } catch {
      return [];
    }
    const from = Date.parse(up.t);
    const year = new Date(from).getUTCFullYear();
    const departures = [...corosyncLogs(clusterDir)].flatMap(([node, text]) => ringDepartures(node, text, year));
    // The stamps are whole seconds: one in the second the cluster came up may be its forming, and is not counted.
    return unplannedEvictions(departures, this.entries, from);
  }

  /**
   * Why the run fell outside the model cmirrord is written for, when a node came back to the ring unfenced
   * (its findings then say nothing of the log); undefined when none did.
   */
  outOfModel(): string | undefined {
    const evicted = this.unplannedEvictions();
    return evicted.length ? evicted.map(describeEviction).join('; ') : undefined;
  }

  /** The known failure this run expected: the case's, less the bugs the fixes fix when it ran with --fixes. */
  knownFailureInForce(): KnownFailure | undefined {
    return knownFailureInForce(this.case.knownFailure, { fixes: this.fixes });
  }

  /** Whether any fault that may legitimately leave the log dirty (a node leaving, a failed device) ran before `point`. */
  disturbed(point: Point): boolean {
    return this.faultsStartedWith(point, 'disturbs').length > 0;
  }

  /**
   * Spans in which nodes may legitimately disagree: each disturbing fault from its start until the fault
   * step that undoes it (its recovery, a heal, the heal at the end of the case) plus SETTLE_MS, and each
   * mirror operation (a node that creates, suspends, resumes, reloads or removes the mirror leaves and
   * rejoins the log's group) from its start until SETTLE_MS after it is done; a suspend lasts until
   * its nodes' mirrors are loaded again, since a suspended node's log is out of the group and its
   * status says so.
   */
  disturbedWindows(point: Point): FaultWindow[] {
    return this.windows(point, true);
  }

  /**
   * The windows in which a node's sync count may go down: those of disturbedWindows, except that a create
   * ends when it is done. A mirror just created only comes into sync; its settling time is for the nodes'
   * statuses to agree, not for a count to fall.
   */
  syncDropWindows(point: Point): FaultWindow[] {
    return this.windows(point, false);
  }

  private windows(point: Point, settleCreates: boolean): FaultWindow[] {
    const faults = this.faults(point);
    const end = this.evidence(point).ms;
    const windows: FaultWindow[] = [];
    const mirrorSteps = this.mirrorSteps(point);
    for (const [i, s] of mirrorSteps.entries()) {
      let doneMs = s.doneMs;
      if (s.op === 'suspend' && doneMs !== undefined) {
        const covers = (later: (typeof mirrorSteps)[number]) => !later.nodes || !s.nodes || s.nodes.every((n) => later.nodes!.includes(n));
        doneMs = mirrorSteps.slice(i + 1).find((later) => later.op !== 'suspend' && covers(later))?.doneMs;
      }
      const settle = settleCreates || !createsMirror(s.op) ? SETTLE_MS : 0;
      windows.push({ fault: `mirror ${String(s.op)}`, nodes: s.nodes ?? [], fromMs: s.fromMs, toMs: doneMs !== undefined ? doneMs + settle : end });
    }
    for (const [i, f] of faults.entries()) {
      if (f.event !== 'start' || f.fault === 'heal-all' || !faultSpec(f.fault).disturbs) continue;
      const recovery = faultSpec(f.fault).recovery;
      const undone = faults.slice(i + 1).find((g) => g.event === 'done' && (g.fault === recovery || g.fault === 'heal' || g.fault === 'heal-all'));
      windows.push({ fault: f.fault, nodes: f.nodes, fromMs: f.ms, toMs: undone ? undone.ms + SETTLE_MS : end });
    }
    return windows;
  }

  /**
   * Nodes the harness took out (crash, reset, daemon kill) while the network was split: the fencing that makes
   * two sides of a partition safe.
   */
  fencedNodes(point: Point): number[] {
    const fenced = new Set<number>();
    let split = false;
    for (const f of this.faults(point)) {
      if (f.fault === 'heal' || f.fault === 'heal-all') split = false;
      else if (f.event !== 'start') continue;
      else if (faultSpec(f.fault).splits) split = true;
      else if (split && faultSpec(f.fault).fences) f.nodes.forEach((n) => fenced.add(n));
    }
    return [...fenced].sort((a, b) => a - b);
  }
}

/** The first `bytes` of a file (the whole file when it is shorter). */
function readPrefix(file: string, bytes: number): string {
  const size = statSync(file).size;
  const n = Math.min(size, bytes);
  const buf = Buffer.alloc(n);
  const fd = openSync(file, 'r');
  try {
    readSync(fd, buf, 0, n, 0);
  } finally {
    closeSync(fd);
  }
  return buf.toString('utf8');
}
