/**
 * A drawn scenario, and the case file it is (pure). The scenario is explore's own structure: the parts a draw
 * chooses and a shrinker removes (a fault with its recovery, the slowed leg that holds a write, the waits), so
 * a reduction never leaves a recovery without its fault. `caseText` turns it into a plain case, which the
 * case loader validates like any other and `clogtest run` runs; its `check:` step lists only the checks whose
 * evidence the scenario guarantees by construction, so an explored scenario is never INCONCLUSIVE.
 */
import { stringify } from 'yaml';
import { faultSpec } from '../case/fault-kinds.ts';
import type { CheckName, ExpectedKernelMessage, LogType, NodeId } from '../case/schema.ts';

/**
 * The faults and mirror operations a scenario draws from, each with what undoes it. Never isolate or partition:
 * cmirrord ignores quorum, so a node cut off and not fenced serves a log of its own, and the logs differ by
 * design (partition-minority); every finding after one would be a false alarm.
 */
export const ACTIONS = ['crash', 'reset', 'pause', 'kill-daemon', 'kill-corosync', 'net-loss', 'net-delay', 'slow-log', 'fail-leg', 'suspend', 'reload'] as const;
export type Action = (typeof ACTIONS)[number];

/**
 * Where in the run an event lands: while a write is held in the slowed leg of the node it targets, while a
 * new mirror resyncs, or at a drawn moment during the writes.
 */
export type Moment = 'held-write' | 'during-resync' | 'during-writes';

/** Which node an event targets, as the draw chose it: the log server (node 1, the lowest id), another node, or all. */
export type Role = 'server' | 'other' | 'all';

export interface ScenarioEvent {
  action: Action;
  on: NodeId[];
  role: Role;
  moment: Moment;
  afterMs: number;
  /** How long the fault lasts before its recovery (for suspend: before the resume). */
  holdMs: number;
  /** Undo it (restart the node, heal, resume...); a shrink may leave a fault in place for good. */
  recover: boolean;
  /** net-loss: percent; net-delay, slow-log: ms; fail-leg: the leg. */
  param?: number;
  /** The next event starts before this one is undone (only on other nodes, never two heals). */
  overlapsNext: boolean;
}

export interface Scenario {
  name: string;
  /** How the scenario came about, for the case's description: the seed and command that drew it. */
  origin: string;
  seed: number;
  nodes: number;
  legs: number;
  legSizeMiB: number;
  regionSizeKiB: number;
  logType: LogType;
  /** create-in-sync: no initial resync; create: the mirror resyncs from leg 0 while the events start. */
  create: 'create-in-sync' | 'create';
  workload: { writers: number; depth: number; regions: 'own' | 'shared' | 'all'; durationS: number; readers: boolean };
  /**
   * A slowed leg 1 on one node, so a write of that node is on leg 0 and not yet on leg 1 when an event lands.
   * Never with a first event during the resync, which slows leg 1 on every node itself (slowsResync).
   */
  slowLeg?: { node: NodeId; delayMs: number };
  events: ScenarioEvent[];
  /** Wait for the writers to finish before the end. */
  waitWorkload: boolean;
  /** Wait for every node to report the mirror in sync before the check (legs-converge needs it). */
  waitSync: boolean;
  /**
   * End with a `check:` step listing the checks the evidence guarantees. Without one, every check still judges
   * at the end and a finding is still a finding; a shrunk case may leave it out to be a step shorter.
   */
  checkStep?: boolean;
}

/** What undoes each action; absent: nothing needs undoing. */
const RECOVERY: Record<Action, string | undefined> = {
  crash: 'restart-node',
  reset: 'restart-node',
  pause: 'resume',
  'kill-daemon': 'restart-daemon',
  'kill-corosync': 'restart-daemon',
  'net-loss': 'heal',
  'net-delay': 'heal',
  'slow-log': 'restore-log',
  'fail-leg': 'restore-leg',
  suspend: 'resume',
  reload: undefined,
};

export function isMirrorOp(a: Action): a is 'suspend' | 'reload' {
  return a === 'suspend' || a === 'reload';
}

export function recoveryOf(a: Action): string | undefined {
  return RECOVERY[a];
}

/** Kernel lines an action causes on purpose, which kernel-clean must not count. */
const NO_LISTENER: ExpectedKernelMessage[] = [
  { pattern: 'dm-log-userspace: Unable to send log request \\[\\d+\\] to userspace: -3', reason: 'cmirrord is down on purpose; a request sent then finds no listener (-ESRCH)' },
  { pattern: 'dm-log-userspace: +Userspace log server not found', reason: 'the same request, as userspace_do_request reports it before it reconnects' },
];

const EXPECTED: Partial<Record<Action, ExpectedKernelMessage[]>> = {
  'fail-leg': [
    { pattern: 'device-mapper: raid1: .*(fail|error)', reason: 'the leg fails on purpose' },
    { pattern: 'device-mapper: raid1: Unable to read primary mirror during recovery', reason: 'leg 0 may fail while a region is recovered from it' },
  ],
  'kill-daemon': NO_LISTENER,
  // A cmirrord that exits with corosync (vm-images/fixes/0004) leaves no listener until it restarts.
  'kill-corosync': NO_LISTENER,
};

/** The checks the scenario's evidence guarantees; the others still judge at the end, where a finding is a finding. */
export function listedChecks(s: Scenario): CheckName[] {
  const checks: CheckName[] = ['no-hang', 'kernel-clean', 'no-lost-writes', 'nodes-agree'];
  if (s.workload.readers) checks.push('no-stale-reads');
  if (s.waitSync) checks.push('legs-converge');
  if (s.logType === 'clustered-disk') checks.push('clean-implies-equal', 'single-writer');
  // Writes to regions not yet in sync go to leg 0 outside the traced path: a resyncing mirror may trace none.
  // A node's trace is the kernel log of its current boot: one a crash or reset restarted keeps none of its writes.
  const restarted = new Set(s.events.flatMap((e) => (!isMirrorOp(e.action) && faultSpec(e.action).recovery === 'restart-node' ? e.on : [])));
  if (s.create === 'create-in-sync' && restarted.size < s.nodes) checks.push('marked-before-write');
  const delays = s.events.some((e) => !isMirrorOp(e.action) && faultSpec(e.action).delaysAnswers);
  if (!delays) checks.push('requests-answered');
  return checks;
}

const secs = (ms: number) => (ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`);
type Doc = Record<string, unknown>;

function withCommon(step: Doc, on: NodeId[] | undefined, afterMs = 0, timeoutMs?: number): Doc {
  return { ...step, ...(on ? { on } : {}), ...(afterMs ? { after: secs(afterMs) } : {}), ...(timeoutMs ? { timeout: secs(timeoutMs) } : {}) };
}

function faultStep(e: ScenarioEvent): Doc[] {
  const on = e.role === 'all' && (e.action === 'net-loss' || e.action === 'net-delay') ? undefined : e.on;
  switch (e.action) {
    case 'suspend':
    case 'reload':
      return [withCommon({ mirror: e.action }, e.on, e.afterMs)];
    case 'net-loss':
      return [withCommon({ fault: { kind: 'net-loss', percent: e.param } }, on, e.afterMs)];
    case 'net-delay':
      return [withCommon({ fault: { kind: 'net-delay', delay: secs(e.param!) } }, on, e.afterMs)];
    case 'slow-log':
      return [withCommon({ fault: { kind: 'slow-log', delay: secs(e.param!) } }, e.on, e.afterMs)];
    case 'fail-leg':
      return [withCommon({ fault: { kind: 'fail-leg', leg: e.param } }, e.on, e.afterMs)];
    default:
      return [withCommon({ fault: e.action }, e.on, e.afterMs)];
  }
}

function recoveryStep(e: ScenarioEvent): Doc[] {
  const hold = e.holdMs;
  switch (e.action) {
    case 'suspend':
      return [withCommon({ mirror: 'resume' }, e.on, hold)];
    case 'reload':
      return [];
    case 'net-loss':
    case 'net-delay':
      return [withCommon({ fault: 'heal' }, undefined, hold)];
    // A failed leg holds the writes (handle_errors) until the mirror is reloaded on the leg restored, as lvm2's repair does.
    case 'fail-leg':
      return [withCommon({ fault: { kind: 'restore-leg', leg: e.param } }, e.on, hold), withCommon({ mirror: 'reload' }, e.on)];
    default:
      return [withCommon({ fault: RECOVERY[e.action] }, e.on, hold)];
  }
}

/** The step that waits for the event's moment, if it has one. */
function momentStep(s: Scenario, e: ScenarioEvent): Doc[] {
  // A lone synchronous writer's held count falls to zero between its writes, so the event can wait for the next
  // write to enter the slowed leg and land early in its hold; with more writes in flight it never falls to zero,
  // and any moment the leg holds one will do.
  const lone = s.workload.writers === 1 && s.workload.depth === 1;
  if (e.moment === 'held-write' && s.slowLeg) return [withCommon({ wait: { until: lone ? 'slow leg takes a write' : 'slow leg busy' } }, [s.slowLeg.node], 0, 30_000)];
  if (e.moment === 'during-resync' && s.create === 'create') return [withCommon({ wait: { until: 'resyncing' } }, undefined, 0, 30_000)];
  return [];
}

const WORKLOAD = 'writes';

/**
 * A first event during the resync gets its moment by construction: leg 1 is slowed on every node before the
 * mirror is created, so each region the resync copies takes a second at least, and the resync is still under
 * way when the event lands (unslowed, a TCG guest resyncs 128 regions in about 8 s, and a wait for the resync
 * could find it done). Leg 1 is restored after the events.
 */
export function slowsResync(s: Scenario): boolean {
  return s.create === 'create' && s.events[0]?.moment === 'during-resync';
}

const RESYNC_DELAY_MS = 1000;

export function caseSteps(s: Scenario): Doc[] {
  const steps: Doc[] = [];
  if (slowsResync(s)) steps.push({ fault: { kind: 'slow-leg', leg: 1, delay: secs(RESYNC_DELAY_MS) } });
  steps.push({ mirror: s.create });
  if (s.slowLeg) steps.push(withCommon({ fault: { kind: 'slow-leg', leg: 1, delay: secs(s.slowLeg.delayMs) } }, [s.slowLeg.node]));
  const w = s.workload;
  steps.push({ workload: { name: WORKLOAD, writers: w.writers, ...(w.depth > 1 ? { depth: w.depth } : {}), regions: w.regions, duration: `${w.durationS}s`, readers: w.readers } });
  for (let i = 0; i < s.events.length; i++) {
    const e = s.events[i]!;
    const next = e.overlapsNext ? s.events[i + 1] : undefined;
    steps.push(...momentStep(s, e), ...faultStep(e));
    if (next) steps.push(...momentStep(s, next), ...faultStep(next));
    if (e.recover) steps.push(...recoveryStep(e));
    if (next) {
      if (next.recover) steps.push(...recoveryStep(next));
      i++;
    }
  }
  if (slowsResync(s)) steps.push({ fault: { kind: 'restore-leg', leg: 1 } });
  // A held write outlives the writers by its hold; a hang is a writer still held a minute after the last should end.
  if (s.waitWorkload) steps.push(withCommon({ wait: { until: `workload ${WORKLOAD} done` } }, undefined, 0, (w.durationS + 60) * 1000));
  if (s.waitSync) steps.push(withCommon({ wait: { sync: 'complete' } }, undefined, 0, 180_000));
  if (s.checkStep !== false) steps.push({ check: listedChecks(s) });
  return steps;
}

export function expectedKernelMessages(s: Scenario): ExpectedKernelMessage[] {
  const out = new Map<string, ExpectedKernelMessage>();
  for (const e of s.events) for (const m of EXPECTED[e.action] ?? []) out.set(m.pattern, m);
  return [...out.values()];
}

const MOMENT_TEXT: Record<Moment, string> = { 'held-write': 'while a write is held', 'during-resync': 'during the resync', 'during-writes': 'during the writes' };

/** ", undone after 5s", ", never undone", or nothing for an action nothing undoes (a reload). */
function undo(e: ScenarioEvent): string {
  if (!RECOVERY[e.action]) return '';
  return e.recover ? `, undone after ${secs(e.holdMs)}` : ', never undone';
}

export function describeEvent(e: ScenarioEvent): string {
  const param = e.param === undefined ? '' : ` ${e.action === 'fail-leg' ? 'leg ' : ''}${e.param}${e.action === 'net-loss' ? '%' : e.action === 'fail-leg' ? '' : 'ms'}`;
  const target = e.role === 'all' ? 'every node' : `node ${e.on.join(', ')} (${e.role === 'server' ? 'the log server' : 'not the server'})`;
  return `${e.action}${param} on ${target} ${MOMENT_TEXT[e.moment]}${undo(e)}${e.overlapsNext ? ', overlapping the next' : ''}`;
}

/** The scenario as a case file a person can read and run with `clogtest run`. */
export function caseText(s: Scenario): string {
  const kinds = expectedKernelMessages(s);
  const doc: Doc = {
    name: s.name,
    description: `${s.origin}. ${s.nodes} nodes, ${s.legs} legs of ${s.legSizeMiB} MiB in ${s.regionSizeKiB} KiB regions, ${s.logType}; ${s.events.map(describeEvent).join('; ') || 'no fault'}.`,
    tags: ['explored'],
    seed: s.seed,
    topology: { nodes: s.nodes, legs: s.legs, 'leg-size': `${s.legSizeMiB}MiB`, 'region-size': `${s.regionSizeKiB}KiB`, 'log-type': s.logType },
    ...(kinds.length ? { 'expect-kernel-messages': kinds } : {}),
    steps: caseSteps(s),
  };
  return stringify(doc, { lineWidth: 110, aliasDuplicateObjects: false });
}
