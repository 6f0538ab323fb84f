/**
 * YAML case file -> validated Case: the case rules (topology, steps, faults, workloads, schedules).
 * Validation is by hand over the parsed YAML nodes (yaml-reader.ts) so every problem carries the
 * position of the key or value at fault, and it goes on past the first problem: a user fixes a file
 * in one pass, not one error per run.
 */
import { readFileSync } from 'node:fs';
import { isMap, isScalar, isSeq, LineCounter, parseDocument } from 'yaml';
import { errorMessage, InputError } from '../base/errors.ts';
import {
  CHECKS,
  CLUSTER_FAULTS,
  DEFAULT_TIMEOUT_MS,
  FAULT_KINDS,
  LIMITS,
  LOG_DEVICE_FORMS,
  LOG_TYPES,
  MIRROR_OPS,
  createsMirror,
  NODE_FAULTS,
  SCHEDULABLE_FAULTS,
  STEP_KINDS,
  TOPOLOGY_DEFAULTS,
  WAIT_CONDITIONS,
  minLogBytes,
  regionCount,
  type Case,
  type CheckName,
  type ExpectedKernelMessage,
  type Fault,
  type FaultKind,
  type LogDeviceForm,
  type KnownFailure,
  type LogType,
  type MenuEntry,
  type MirrorOp,
  type NodeId,
  type RandomSchedule,
  type RegionTarget,
  type Step,
  type StepKind,
  type Topology,
  type Wait,
  type WaitCondition,
  type Workload,
} from './schema.ts';
import { faultSpec } from './fault-kinds.ts';
import { KNOWN_BUGS } from './known-bugs.ts';
import { formatDuration, formatSize } from './units.ts';
import { describe, keyTextAt, Reader, unknownMessage, type Entry, type Fields, type V } from './yaml-reader.ts';



const CASE_KEYS = [
  'name',
  'description',
  'tags',
  'topology',
  'seed',
  'known-failure',
  'not-applicable',
  'schedule',
  'expect-kernel-messages',
  'steps',
] as const;
const KNOWN_FAILURE_KEYS = ['bugs', 'intermittent', 'regions'] as const;
const TOPOLOGY_KEYS = ['nodes', 'legs', 'leg-size', 'log-size', 'region-size', 'log-type', 'mirrors', 'log-retry-timeout', 'integrated-flush', 'log-device', 'block-on-error'] as const;
const STEP_COMMON_KEYS = ['on', 'after', 'timeout'] as const;
const WORKLOAD_KEYS = ['name', 'writers', 'depth', 'block-size', 'regions', 'duration', 'count', 'readers', 'status-loop', 'mirror'] as const;
const SCHEDULE_KEYS = ['kind', 'duration', 'interval', 'hold', 'faults'] as const;
const WAIT_KEYS = ['sync', 'seconds', 'until'] as const;

/** Larger network or leg delays only stall everything; a bare number here is seconds, so this also catches `delay: 200`. */
const MAX_DELAY_MS = 10_000;
const MAX_WRITERS = 16;
/** Writes one writer keeps in flight, a guest thread each: 128 covers four of flush_by_group's 32-region groups. */
const MAX_DEPTH = 128;
const WAIT_CONDITION_LIST = Object.values(WAIT_CONDITIONS).map((c) => `"${c.text}"`).join(', ');

export type Validation = { ok: true; case: Case } | { ok: false; errors: string[] };

/** What a command line changes in every case it loads: `--nodes N` sizes each cluster, whatever topology.nodes says. */
export interface CaseOverrides {
  nodes?: number;
}

/** Reads and validates a case file; throws InputError listing every problem as `file:line:col: message`. */
export function loadCase(path: string, overrides: CaseOverrides = {}): Case {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new InputError(`${path}: cannot read: ${errorMessage(err)}`);
  }
  const result = validateCase(text, path, overrides);
  if (!result.ok) throw new InputError(result.errors.map((e) => (overrides.nodes === undefined ? e : `${e} (with --nodes ${overrides.nodes})`)).join('\n'));
  return result.case;
}

/** With overrides, the case is validated as it will run: a step naming a node the smaller cluster lacks is an error. */
export function validateCase(text: string, file: string, overrides: CaseOverrides = {}): Validation {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false });
  const r = new Reader(doc, lineCounter);
  for (const e of doc.errors) {
    if (e.code === 'DUPLICATE_KEY') r.err(e.pos[0], `duplicate key "${keyTextAt(text, e.pos[0])}"`);
    else r.err(e.pos[0], `YAML syntax error: ${e.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '')}`);
  }
  // Past a syntax error the node tree is a guess; duplicate keys leave it intact (the first one wins).
  const parsed = doc.errors.every((e) => e.code === 'DUPLICATE_KEY') ? readCase(r, file, overrides) : undefined;
  if (r.problems.length === 0) {
    if (!parsed) throw new Error(`${file}: validation rejected the case without saying why`);
    return { ok: true, case: parsed };
  }
  const errors = r.problems
    .map((p, i) => ({ ...p, i }))
    .sort((a, b) => a.offset - b.offset || a.i - b.i)
    .map((p) => {
      const { line, col } = lineCounter.linePos(p.offset);
      return `${file}:${line}:${col}: ${p.message}`;
    });
  return { ok: false, errors };
}

function nodeRange(n: number): string {
  return `topology has nodes 1..${n}`;
}

/** What step validation needs from the topology; when a topology field is itself invalid, the widest legal value stands in so only certain errors are reported. */
interface Bounds {
  nodes: number;
  legs: number;
  mirrors: number;
  regions: number | undefined;
  regionSize: number | undefined;
  logType: LogType | undefined;
}

function readCase(r: Reader, file: string, overrides: CaseOverrides): Case | undefined {
  const root: V = { node: r.doc.contents, at: r.doc.contents?.range[0] ?? 0 };
  if (root.node === null) return r.err(0, 'empty case file: a case needs at least name: and steps:');
  const f = r.map(root, 'the case', CASE_KEYS);
  if (!f) return undefined;
  for (const key of ['name', 'steps'])
    if (!f.has(key)) r.err(root.at, `missing required key "${key}"`);

  const name = f.has('name') ? r.str(f.get('name')!.value, 'name', { slug: true }) : undefined;
  const description = f.has('description') ? r.str(f.get('description')!.value, 'description') : '';
  const tags = f.has('tags') ? readTags(r, f.get('tags')!.value) : [];
  const topo = f.has('topology') ? readTopology(r, f.get('topology')!.value) : { topology: { ...TOPOLOGY_DEFAULTS }, bounds: boundsOf(TOPOLOGY_DEFAULTS) };
  if (overrides.nodes !== undefined) {
    topo.bounds.nodes = overrides.nodes;
    if (topo.topology) topo.topology = { ...topo.topology, nodes: overrides.nodes };
  }
  const seed = f.has('seed') ? r.int(f.get('seed')!.value, 'seed', 0, 2 ** 32 - 1) : undefined;
  const knownFailure = f.has('known-failure') ? readKnownFailure(r, f.get('known-failure')!.value) : undefined;
  const notApplicable = f.has('not-applicable') ? readNotApplicable(r, f.get('not-applicable')!.value) : {};
  const schedule = f.has('schedule') ? readSchedule(r, f.get('schedule')!.value, topo.bounds) : undefined;
  const expectKernelMessages = f.has('expect-kernel-messages') ? readKernelMessages(r, f.get('expect-kernel-messages')!.value) : [];
  const steps = f.has('steps') ? readSteps(r, f.get('steps')!.value, topo.bounds, f.has('schedule')) : undefined;

  if (steps && f.has('schedule')) {
    if (!steps.some((s) => s.kind === 'schedule'))
      r.err(f.get('schedule')!.keyAt, 'schedule: is never run: add the step "schedule: run" where its faults go');
  }

  if (r.problems.length) return undefined;
  return {
    file,
    name: name!,
    description: description!,
    tags: tags!,
    topology: topo.topology!,
    ...(seed !== undefined && { seed }),
    ...(knownFailure !== undefined && { knownFailure }),
    notApplicable: notApplicable!,
    ...(schedule && { schedule }),
    expectKernelMessages: expectKernelMessages!,
    steps: steps!,
  };
}

function readTags(r: Reader, v: V): string[] | undefined {
  const items = r.seq(v, 'tags');
  if (!items) return undefined;
  const tags = items.map((item) => r.str(item, 'a tag', { slug: true }));
  return tags.every((t) => t !== undefined) ? (tags as string[]) : undefined;
}

function boundsOf(t: Topology): Bounds {
  return { nodes: t.nodes, legs: t.legs, mirrors: t.mirrors, regions: regionCount(t), regionSize: t.regionSize, logType: t.logType };
}

function readTopology(r: Reader, v: V): { topology: Topology | undefined; bounds: Bounds } {
  const f = r.map(v, 'topology', TOPOLOGY_KEYS);
  const wide: Bounds = {
    nodes: LIMITS.nodes.max,
    legs: LIMITS.legs.max,
    mirrors: LIMITS.mirrors.max,
    regions: undefined,
    regionSize: undefined,
    logType: undefined,
  };
  if (!f) return { topology: undefined, bounds: wide };
  const get = <T>(key: string, fallback: T, read: (v: V) => T | undefined): T | undefined =>
    f.has(key) ? read(f.get(key)!.value) : fallback;
  const d = TOPOLOGY_DEFAULTS;
  const nodes = get('nodes', d.nodes, (x) => r.int(x, 'topology.nodes', LIMITS.nodes.min, LIMITS.nodes.max));
  const legs = get('legs', d.legs, (x) => r.int(x, 'topology.legs', LIMITS.legs.min, LIMITS.legs.max));
  const mirrors = get('mirrors', d.mirrors, (x) => r.int(x, 'topology.mirrors', LIMITS.mirrors.min, LIMITS.mirrors.max));
  const logType = get<LogType>('log-type', d.logType, (x) => r.oneOf(x, 'topology.log-type', LOG_TYPES));
  const sectors = (what: string, at: V) => (bytes: number | undefined) => {
    if (bytes === undefined) return undefined;
    if (bytes === 0 || bytes % LIMITS.sector !== 0)
      return r.err(at.at, `${what} must be a positive multiple of 512 bytes, got ${formatSize(bytes)}`);
    return bytes;
  };
  const sized = (key: string, fallback: number) =>
    get(key, fallback, (x) => sectors(`topology.${key}`, x)(r.size(x, `topology.${key}`)));
  const legSize = sized('leg-size', d.legSize);
  let regionSize = sized('region-size', d.regionSize);
  if (regionSize !== undefined && (regionSize & (regionSize - 1)) !== 0)
    regionSize = r.err(f.get('region-size')!.value.at, `topology.region-size must be a power of two, got ${formatSize(regionSize)}`);
  let logSize = sized('log-size', d.logSize);
  if (f.has('log-size') && logType === 'clustered-core')
    r.err(f.get('log-size')!.keyAt, 'topology.log-size applies only to log-type clustered-disk (clustered-core keeps the log in memory)');
  if (logSize !== undefined && logSize < LIMITS.minLogSize)
    logSize = r.err(f.get('log-size')!.value.at, `topology.log-size must be at least ${formatSize(LIMITS.minLogSize)}, got ${formatSize(logSize)}`);
  if (legSize !== undefined && regionSize !== undefined && legSize < regionSize)
    r.err((f.get('leg-size') ?? f.get('region-size'))!.value.at, `topology.leg-size ${formatSize(legSize)} is smaller than one region (${formatSize(regionSize)})`);
  else if (legSize !== undefined && regionSize !== undefined && logSize !== undefined && logType === 'clustered-disk') {
    const need = minLogBytes({ legSize, regionSize });
    if (logSize < need)
      logSize = r.err(
        (f.get('log-size') ?? f.get('leg-size') ?? f.get('region-size'))!.value.at,
        `topology.log-size ${formatSize(logSize)} is too small for ${regionCount({ legSize, regionSize })} regions: the log needs ${need} bytes (1024-byte header + 1 bit per region, in whole sectors)`,
      );
  }
  let logRetryTimeoutMs = get('log-retry-timeout', d.logRetryTimeoutMs, (x) => r.duration(x, 'topology.log-retry-timeout'));
  if (logRetryTimeoutMs !== undefined && (logRetryTimeoutMs < 1000 || logRetryTimeoutMs % 1000 !== 0))
    logRetryTimeoutMs = r.err(f.get('log-retry-timeout')!.value.at, `topology.log-retry-timeout must be a whole number of seconds, at least 1s, got ${logRetryTimeoutMs} ms`);
  const bounds: Bounds = {
    nodes: nodes ?? wide.nodes,
    legs: legs ?? wide.legs,
    mirrors: mirrors ?? wide.mirrors,
    regions: legSize !== undefined && regionSize !== undefined ? regionCount({ legSize, regionSize }) : undefined,
    regionSize,
    logType,
  };
  const integratedFlush = get('integrated-flush', d.integratedFlush, (x) => r.bool(x, 'topology.integrated-flush'));
  const logDevice = get<LogDeviceForm>('log-device', d.logDevice, (x) => r.oneOf(x, 'topology.log-device', LOG_DEVICE_FORMS));
  if (f.has('log-device') && logType === 'clustered-core')
    r.err(f.get('log-device')!.keyAt, 'topology.log-device applies only to log-type clustered-disk (clustered-core has no log device)');
  const blockOnError = get('block-on-error', d.blockOnError, (x) => r.bool(x, 'topology.block-on-error'));
  const all = [nodes, legs, mirrors, logType, legSize, regionSize, logSize, logRetryTimeoutMs, integratedFlush, logDevice, blockOnError];
  if (all.some((x) => x === undefined)) return { topology: undefined, bounds };
  return {
    topology: {
      nodes: nodes!,
      legs: legs!,
      legSize: legSize!,
      logSize: logSize!,
      regionSize: regionSize!,
      logType: logType!,
      mirrors: mirrors!,
      logRetryTimeoutMs: logRetryTimeoutMs!,
      integratedFlush: integratedFlush!,
      logDevice: logDevice!,
      blockOnError: blockOnError!,
    },
    bounds,
  };
}

function readNodes(r: Reader, v: V, b: Bounds, what: string): NodeId[] | undefined {
  const d = r.deref(v);
  if (!d) return undefined;
  const items = isSeq(d.node) ? r.seq(d, what) : [d];
  if (!items) return undefined;
  if (items.length === 0) return r.err(d.at, `${what} must name at least one node`);
  const ids: NodeId[] = [];
  let ok = true;
  for (const item of items) {
    const id = readNodeId(r, item, b, what);
    if (id === undefined) ok = false;
    else if (ids.includes(id)) ok = r.err(item.at, `node ${id} is listed twice in ${what}`) ?? false;
    else ids.push(id);
  }
  return ok ? ids : undefined;
}

function readNodeId(r: Reader, v: V, b: Bounds, what: string): NodeId | undefined {
  const s = r.scalar(v);
  if (!s) return undefined;
  if (typeof s.value !== 'number' || !Number.isInteger(s.value))
    return r.err(s.at, `${what} must list node ids (whole numbers), got ${describe(v.node)}`);
  if (s.value < 1 || s.value > b.nodes) return r.err(s.at, `node ${s.value} does not exist: ${nodeRange(b.nodes)}`);
  return s.value;
}

function readIndex(r: Reader, v: V, what: 'leg' | 'mirror', count: number): number | undefined {
  const s = r.scalar(v);
  if (!s) return undefined;
  if (typeof s.value !== 'number' || !Number.isInteger(s.value))
    return r.err(s.at, `${what} must be a whole number, got ${describe(v.node)}`);
  if (s.value < 0 || s.value >= count)
    return r.err(s.at, `${what} ${s.value} does not exist: topology has ${what}s 0..${count - 1}`);
  return s.value;
}

/** Steps in order; also cross-checks workload names and the `schedule: run` marker. */
function readSteps(r: Reader, v: V, b: Bounds, scheduled: boolean): Step[] | undefined {
  const items = r.seq(v, 'steps');
  if (!items) return undefined;
  if (items.length === 0) return r.err(v.at, 'steps must list at least one step');
  const workloads = new Map<string, number>();
  let scheduleLine: number | undefined;
  let slowLeg = false;
  let created = false;
  let diverged = false;
  let slowLog = false;
  let invalidLoaded = false;
  const steps: Array<Step | undefined> = items.map((item, i) => {
    const step = readStep(r, item, b, i + 1, workloads);
    if (step?.kind === 'mirror' && step.op === 'load-invalid') invalidLoaded = true;
    if (step?.kind === 'check' && step.checks.includes('invalid-tables-refused') && !invalidLoaded)
      return r.err(item.at, 'check invalid-tables-refused needs a "mirror: load-invalid" step before it: it judges the malformed tables that step tries');
    if (step?.kind === 'fault' && step.fault.kind === 'slow-leg') slowLeg = true;
    if (step?.kind === 'fault' && step.fault.kind === 'slow-log') slowLog = true;
    const onSlowLeg = step?.kind === 'wait' && step.wait.kind === 'until' && (step.wait.condition.kind === 'slow-leg-busy' || step.wait.condition.kind === 'slow-leg-takes-write');
    if (onSlowLeg && !slowLeg) return r.err(item.at, `wait until "${WAIT_CONDITIONS[(step.wait as { condition: WaitCondition }).condition.kind].text}" needs a slow-leg fault in an earlier step`);
    if (step?.kind === 'wait' && step.wait.kind === 'until' && step.wait.condition.kind === 'slow-log-busy' && !slowLog)
      return r.err(item.at, 'wait until "slow log busy" needs a slow-log fault in an earlier step');
    if (step?.kind === 'mirror' && step.op === 'create-in-sync' && (created || diverged))
      return r.err(item.at, '"mirror: create-in-sync" must be the first create, before any diverge-legs: only fresh, zeroed legs are in sync');
    if (step?.kind === 'mirror' && createsMirror(step.op)) created = true;
    if (step?.kind === 'diverge-legs') {
      if (created) return r.err(item.at, 'diverge-legs must come before the first "mirror: create": it writes the disks under the legs');
      diverged = true;
    }
    if (step?.kind === 'schedule') {
      if (!scheduled) return r.err(item.at, '"schedule: run" needs a schedule: block at the top of the case');
      if (scheduleLine !== undefined) return r.err(item.at, `"schedule: run" appears twice (first on line ${scheduleLine})`);
      scheduleLine = step.line;
    }
    return step;
  });
  return steps.every((s) => s !== undefined) ? (steps as Step[]) : undefined;
}

function readStep(r: Reader, v: V, b: Bounds, index: number, workloads: Map<string, number>): Step | undefined {
  const d = r.deref(v);
  if (!d) return undefined;
  if (!isMap(d.node)) return r.err(d.at, `a step must be a mapping with one action (${STEP_KINDS.join(', ')}), got ${describe(d.node)}`);
  const f = r.map(d, 'a step', [...STEP_COMMON_KEYS, ...STEP_KINDS], (key) => unknownMessage(`step "${key}"`, key, STEP_KINDS));
  if (!f) return undefined;
  const actions = [...f.values()].filter((e) => (STEP_KINDS as readonly string[]).includes(e.key));
  if (actions.length === 0) {
    const unknownKey = d.node.items.some((p) => !isScalar(p.key) || !f.has(String(p.key.value)));
    return unknownKey ? undefined : r.err(d.at, `a step needs one action: ${STEP_KINDS.join(', ')}`);
  }
  for (const extra of actions.slice(1))
    r.err(extra.keyAt, `a step takes exactly one action; this one already has ${actions[0]!.key}`);
  const action = actions[0]!;
  const kind = action.key as StepKind;
  const line = r.line(d.at);
  const on = f.has('on') ? readNodes(r, f.get('on')!.value, b, 'on') : undefined;
  const afterMs = f.has('after') ? r.duration(f.get('after')!.value, 'after') : 0;
  let timeoutMs = f.has('timeout') ? r.duration(f.get('timeout')!.value, 'timeout') : DEFAULT_TIMEOUT_MS[kind];
  if (timeoutMs === 0) timeoutMs = r.err(f.get('timeout')!.value.at, 'timeout must be more than 0s');
  const onBad = f.has('on') && on === undefined;

  let body: Record<string, unknown> | undefined;
  switch (kind) {
    case 'mirror': {
      const op = r.oneOf<MirrorOp>(action.value, 'mirror operation', MIRROR_OPS);
      body = op && { op };
      break;
    }
    case 'wait': {
      const wait = readWait(r, action.value, workloads);
      body = wait && { wait };
      break;
    }
    case 'workload': {
      const workload = readWorkload(r, action.value, b, index, workloads, line);
      body = workload && { workload };
      break;
    }
    case 'fault': {
      const fault = readFault(r, action.value, b, false) as Fault | undefined;
      if (fault) checkFaultTargets(r, fault.kind, f, action, b, on);
      body = fault && { fault };
      break;
    }
    case 'check': {
      const checks = readChecks(r, action.value);
      body = checks && { checks };
      break;
    }
    case 'diverge-legs': {
      const diverge = readDiverge(r, action.value, b);
      if (f.has('on')) r.err(f.get('on')!.keyAt, 'diverge-legs takes no on: (the harness writes the disks itself)');
      body = diverge && { diverge };
      break;
    }
    case 'schedule': {
      const s = r.scalar(action.value);
      if (s && s.value !== 'run') r.err(action.value.at, `schedule step must be "schedule: run", got ${describe(action.value.node)}`);
      else if (f.has('on')) r.err(f.get('on')!.keyAt, 'schedule: run takes no on: (the schedule draws its targets)');
      else if (s) body = {};
      break;
    }
  }
  if (!body || onBad || afterMs === undefined || timeoutMs === undefined || actions.length > 1) return undefined;
  return { kind, line, ...(on && { on }), afterMs, timeoutMs, ...body } as Step;
}

function checkFaultTargets(r: Reader, kind: FaultKind, f: Fields, action: Entry, b: Bounds, on: NodeId[] | undefined): void {
  if ((CLUSTER_FAULTS as readonly string[]).includes(kind) && f.has('on')) {
    r.err(f.get('on')!.keyAt, kind === 'partition' ? 'fault partition takes groups:, not on:' : 'fault heal takes no on: (it heals the whole network)');
  } else if ((NODE_FAULTS as readonly string[]).includes(kind) && !f.has('on')) {
    r.err(action.keyAt, `fault ${kind} needs on: naming its nodes`);
  } else if (kind === 'isolate' && on && on.length >= b.nodes) {
    r.err(f.get('on')!.value.at, 'fault isolate must leave at least one node outside on:');
  }
}

function readWait(r: Reader, v: V, workloads: Map<string, number>): Wait | undefined {
  const f = r.map(v, 'wait', WAIT_KEYS);
  if (!f) return undefined;
  const given = [...f.values()];
  if (given.length !== 1) {
    if (given.length > 1) return r.err(given[1]!.keyAt, `wait takes one of sync, seconds, until; this one already has ${given[0]!.key}`);
    return r.err(v.at, 'wait needs one of sync: complete, seconds: S, until: CONDITION');
  }
  const e = given[0]!;
  switch (e.key) {
    case 'sync': {
      const s = r.scalar(e.value);
      if (!s) return undefined;
      if (s.value !== 'complete') return r.err(s.at, `wait sync must be "complete", got ${describe(e.value.node)}`);
      return { kind: 'sync' };
    }
    case 'seconds': {
      const s = r.scalar(e.value);
      if (!s) return undefined;
      if (typeof s.value !== 'number' || !(s.value >= 0))
        return r.err(s.at, `wait seconds must be a number of seconds, got ${describe(e.value.node)}`);
      return { kind: 'sleep', ms: Math.round(s.value * 1000) };
    }
    default: {
      const text = r.str(e.value, 'wait until');
      if (text === undefined) return undefined;
      const condition = parseCondition(text.trim().replace(/\s+/g, ' '));
      if (!condition) return r.err(e.value.at, `unknown wait condition "${text}"; expected one of ${WAIT_CONDITION_LIST}`);
      if (condition.kind === 'workload-done' && !workloads.has(condition.name))
        return r.err(e.value.at, `no workload named "${condition.name}" starts before this step`);
      if (condition.kind === 'workloads-done' && workloads.size === 0)
        return r.err(e.value.at, 'no workload starts before this step');
      return { kind: 'until', condition };
    }
  }
}

function parseCondition(text: string): WaitCondition | undefined {
  const m = /^workload (\S+) done$/.exec(text);
  if (m && m[1] !== 'NAME') return { kind: 'workload-done', name: m[1]! };
  const kind = (Object.keys(WAIT_CONDITIONS) as Array<WaitCondition['kind']>).find((k) => WAIT_CONDITIONS[k].text === text);
  return kind && kind !== 'workload-done' ? ({ kind } as WaitCondition) : undefined;
}

function readWorkload(r: Reader, v: V, b: Bounds, index: number, workloads: Map<string, number>, line: number): Workload | undefined {
  const empty = v.node === null || (isScalar(v.node) && v.node.value === null);
  const f: Fields | undefined = empty ? new Map() : r.map(v, 'workload', WORKLOAD_KEYS);
  if (!f) return undefined;
  const get = <T>(key: string, fallback: T, read: (v: V) => T | undefined): T | undefined =>
    f.has(key) ? read(f.get(key)!.value) : fallback;

  let name = get('name', `w${index}`, (x) => r.str(x, 'workload name', { slug: true }));
  if (name !== undefined && workloads.has(name))
    name = r.err(f.get('name')?.value.at ?? v.at, `workload name "${name}" is already used on line ${workloads.get(name)}`);
  if (name !== undefined) workloads.set(name, line);
  // No writers: a workload of status queries (or reads) only, for a time the case's writes must not overlap.
  const writers = get('writers', 1, (x) => r.int(x, 'writers (per node)', 0, MAX_WRITERS));
  const depth = get('depth', 1, (x) => r.int(x, 'depth (writes in flight per writer)', 1, MAX_DEPTH));
  let blockSize = get('block-size', 4096, (x) => r.size(x, 'block-size'));
  if (blockSize !== undefined) {
    const at = f.get('block-size')?.value.at ?? v.at;
    if (blockSize === 0 || blockSize % LIMITS.sector !== 0)
      blockSize = r.err(at, `block-size must be a positive multiple of 512 bytes, got ${formatSize(blockSize)}`);
    else if (b.regionSize !== undefined && b.regionSize % blockSize !== 0)
      blockSize = r.err(at, `block-size ${formatSize(blockSize)} must divide region-size ${formatSize(b.regionSize)}`);
  }
  const regions = get<RegionTarget>('regions', { kind: 'own' }, (x) => readRegions(r, x, b));
  const hasDuration = f.has('duration');
  const hasCount = f.has('count');
  if (hasDuration && hasCount) r.err(f.get('count')!.keyAt, 'workload takes duration or count, not both');
  const durationMs = hasDuration ? r.duration(f.get('duration')!.value, 'workload duration') : hasCount ? undefined : 10_000;
  if (durationMs === 0) r.err(f.get('duration')!.value.at, 'workload duration must be more than 0s');
  const count = hasCount ? r.int(f.get('count')!.value, 'workload count (writes per writer)', 1, 1_000_000_000) : undefined;
  const readers = get('readers', false, (x) => r.bool(x, 'readers'));
  const statusLoop = get('status-loop', false, (x) => r.bool(x, 'status-loop'));
  if (statusLoop && hasCount) r.err(f.get('status-loop')!.keyAt, 'status-loop needs a duration: it runs for the workload\'s duration');
  if (writers === 0 && !statusLoop && !readers) r.err(f.get('writers')!.value.at, 'a workload with writers: 0 needs status-loop or readers: it would do nothing');
  const mirror = get('mirror', 0, (x) => readIndex(r, x, 'mirror', b.mirrors));
  if (name === undefined || writers === undefined || depth === undefined || blockSize === undefined || !regions || readers === undefined || statusLoop === undefined || mirror === undefined) return undefined;
  if ((hasDuration && !durationMs) || (hasCount && count === undefined) || (hasDuration && hasCount)) return undefined;
  return {
    name,
    writers,
    depth,
    blockSize,
    regions,
    ...(durationMs !== undefined && { durationMs }),
    ...(count !== undefined && { count }),
    readers,
    statusLoop,
    mirror,
  };
}

function readRegions(r: Reader, v: V, b: Bounds): RegionTarget | undefined {
  const d = r.deref(v);
  if (!d) return undefined;
  if (isSeq(d.node)) {
    const items = r.seq(d, 'regions')!;
    if (items.length === 0) return r.err(d.at, 'regions must list at least one region');
    const list: number[] = [];
    for (const item of items) {
      const max = b.regions ?? Number.MAX_SAFE_INTEGER;
      const s = r.scalar(item);
      if (!s) return undefined;
      if (typeof s.value !== 'number' || !Number.isInteger(s.value) || s.value < 0)
        return r.err(s.at, `regions must list region numbers (from 0), got ${describe(item.node)}`);
      if (s.value >= max) return r.err(s.at, `region ${s.value} does not exist: each mirror has regions 0..${max - 1}`);
      list.push(s.value);
    }
    return { kind: 'list', regions: list };
  }
  const kind = r.oneOf(d, 'regions', ['own', 'shared', 'all'] as const);
  return kind && { kind };
}

function readDiverge(r: Reader, v: V, b: Bounds): { regions: RegionTarget; mirror: number } | undefined {
  const f = r.map(v, 'diverge-legs', ['regions', 'mirror']);
  if (!f) return undefined;
  const regions = f.has('regions') ? readRegions(r, f.get('regions')!.value, b) : { kind: 'all' as const };
  const mirror = f.has('mirror') ? readIndex(r, f.get('mirror')!.value, 'mirror', b.mirrors) : 0;
  if (!regions || mirror === undefined) return undefined;
  if (regions.kind === 'own' || regions.kind === 'shared') return r.err(f.get('regions')!.value.at, 'diverge-legs regions must be "all" or a list of region numbers');
  return { regions, mirror };
}

/** A fault step's value, or with `menu` a schedule menu entry (required parameters may then be drawn). */
function readFault(r: Reader, v: V, b: Bounds, menu: boolean): Fault | Omit<MenuEntry, 'on'> | undefined {
  const d = r.deref(v);
  if (!d) return undefined;
  let kindV: V;
  let f: Fields;
  if (isMap(d.node)) {
    const kindPair = d.node.items.find((p) => isScalar(p.key) && p.key.value === 'kind');
    if (!kindPair) return r.err(d.at, `fault needs kind: (one of ${FAULT_KINDS.join(', ')})`);
    const pre = r.map(d, 'fault', null);
    if (!pre) return undefined;
    kindV = pre.get('kind')!.value;
    f = pre;
  } else {
    kindV = d;
    f = new Map();
  }
  const kind = r.oneOf<FaultKind>(kindV, 'fault kind', FAULT_KINDS);
  if (!kind) return undefined;
  if (menu && !(SCHEDULABLE_FAULTS as readonly string[]).includes(kind))
    return r.err(kindV.at, `fault ${kind} cannot be on a schedule menu: the schedule adds recoveries itself; expected one of ${SCHEDULABLE_FAULTS.join(', ')}`);
  const spec = faultSpec(kind);
  const allowed: readonly string[] = spec.params;
  let ok = true;
  for (const e of f.values()) {
    if (e.key === 'kind' || (menu && e.key === 'on')) continue;
    if (!allowed.includes(e.key)) ok = r.err(e.keyAt, unknownMessage(`key "${e.key}" in fault ${kind}`, e.key, allowed)) ?? false;
  }
  if (!menu)
    for (const key of spec.required) if (!f.has(key)) ok = r.err(d.at, `fault ${kind} needs ${key}:`) ?? false;
  if (spec.needsLog && b.logType === 'clustered-core')
    ok = r.err(kindV.at, `fault ${kind} needs a log device: log-type clustered-core has none`) ?? false;

  const params: Record<string, unknown> = {};
  for (const e of f.values()) {
    if (!allowed.includes(e.key)) continue;
    let value: unknown;
    switch (e.key) {
      case 'groups':
        value = readGroups(r, e.value, b);
        break;
      case 'percent': {
        const s = r.scalar(e.value);
        if (!s) break;
        if (typeof s.value !== 'number' || !(s.value > 0 && s.value <= 100))
          r.err(s.at, `percent must be a number above 0 and at most 100, got ${describe(e.value.node)}`);
        else value = s.value;
        break;
      }
      case 'delay': {
        const ms = r.duration(e.value, 'delay');
        if (ms !== undefined && ms > MAX_DELAY_MS)
          r.err(e.value.at, `delay must be at most ${formatDuration(MAX_DELAY_MS)}, got ${formatDuration(ms)} (a bare number is seconds)`);
        else if (ms === 0) r.err(e.value.at, 'delay must be more than 0ms');
        else value = ms;
        break;
      }
      case 'leg':
        value = readIndex(r, e.value, 'leg', b.legs);
        break;
      case 'mirror':
        value = readIndex(r, e.value, 'mirror', b.mirrors);
        break;
    }
    if (value === undefined) ok = false;
    else params[e.key === 'delay' ? 'delayMs' : e.key] = value;
  }
  if (!ok) return undefined;
  return { kind, ...params } as Fault;
}

/** Every node in exactly one group, at least two groups. */
function readGroups(r: Reader, v: V, b: Bounds): NodeId[][] | undefined {
  const items = r.seq(v, 'groups');
  if (!items) return undefined;
  if (items.length < 2) return r.err(v.at, 'partition groups must list at least two groups, like [[1], [2, 3]]');
  const seen = new Map<NodeId, number>();
  const groups: NodeId[][] = [];
  let ok = true;
  for (const [gi, item] of items.entries()) {
    const members = r.seq(item, 'each partition group');
    if (!members) {
      ok = false;
      continue;
    }
    if (members.length === 0) ok = r.err(item.at, 'a partition group must name at least one node') ?? false;
    const group: NodeId[] = [];
    for (const m of members) {
      const id = readNodeId(r, m, b, 'a partition group');
      if (id === undefined) ok = false;
      else if (seen.has(id))
        ok = r.err(m.at, `node ${id} is in two partition groups (groups ${seen.get(id)! + 1} and ${gi + 1})`) ?? false;
      else {
        seen.set(id, gi);
        group.push(id);
      }
    }
    groups.push(group);
  }
  if (!ok) return undefined;
  const missing = Array.from({ length: b.nodes }, (_, i) => i + 1).filter((n) => !seen.has(n));
  if (missing.length)
    return r.err(v.at, `partition groups leave out node${missing.length > 1 ? 's' : ''} ${missing.join(', ')}: every node must be in one group`);
  return groups;
}

/**
 * `known-failure: {bugs: [N, ...], intermittent: true, regions: [R, ...]}`: the bugs of the catalogue
 * (case/known-bugs.ts) whose findings the case expects, and the regions their region-bound findings are in.
 */
function readKnownFailure(r: Reader, v: V): KnownFailure | undefined {
  const f = r.map(v, 'known-failure', KNOWN_FAILURE_KEYS);
  if (!f) return undefined;
  if (!f.has('bugs')) return r.err(v.at, `known-failure needs bugs: (numbers of the catalogue in harness/case/known-bugs.ts: ${[...KNOWN_BUGS.keys()].join(', ')})`);
  const items = r.seq(f.get('bugs')!.value, 'known-failure bugs');
  if (!items) return undefined;
  const bugs: number[] = [];
  for (const item of items) {
    const id = r.int(item, 'a known-failure bug', 1, 1_000_000);
    if (id === undefined) return undefined;
    if (!KNOWN_BUGS.has(id)) return r.err(item.at, `known-failure: no bug ${id} in the catalogue (harness/case/known-bugs.ts has ${[...KNOWN_BUGS.keys()].join(', ')})`);
    bugs.push(id);
  }
  if (!bugs.length) return r.err(v.at, 'known-failure bugs: name at least one bug');
  const intermittent = f.has('intermittent') ? r.bool(f.get('intermittent')!.value, 'known-failure intermittent') : false;
  let regions: number[] | undefined;
  if (f.has('regions')) {
    const rs = r.seq(f.get('regions')!.value, 'known-failure regions');
    if (!rs) return undefined;
    regions = [];
    for (const item of rs) {
      const n = r.int(item, 'a known-failure region', 0, 2 ** 31 - 1);
      if (n === undefined) return undefined;
      regions.push(n);
    }
  }
  if (intermittent === undefined) return undefined;
  return { bugs, ...(intermittent && { intermittent }), ...(regions && { regions }) };
}

/** `not-applicable: {CHECK: why it has nothing to judge in this case}`. */
function readNotApplicable(r: Reader, v: V): Partial<Record<CheckName, string>> | undefined {
  const f = r.map(v, 'not-applicable', CHECKS, (key) => unknownMessage(`check "${key}" in not-applicable`, key, CHECKS));
  if (!f) return undefined;
  const out: Partial<Record<CheckName, string>> = {};
  let ok = true;
  for (const e of f.values()) {
    const why = r.str(e.value, `not-applicable ${e.key} (why the check has nothing to judge here)`, { nonEmpty: true });
    if (why === undefined) ok = false;
    else out[e.key as CheckName] = why;
  }
  return ok ? out : undefined;
}

function readChecks(r: Reader, v: V): CheckName[] | undefined {
  const d = r.deref(v);
  if (!d) return undefined;
  const items = isSeq(d.node) ? r.seq(d, 'check')! : [d];
  if (items.length === 0) return r.err(d.at, `check must name at least one check: ${CHECKS.join(', ')}`);
  const names = items.map((item) => r.oneOf<CheckName>(item, 'check', CHECKS));
  return names.every((n) => n !== undefined) ? (names as CheckName[]) : undefined;
}

function readSchedule(r: Reader, v: V, b: Bounds): RandomSchedule | undefined {
  const f = r.map(v, 'schedule', SCHEDULE_KEYS);
  if (!f) return undefined;
  if (!f.has('kind')) r.err(v.at, 'schedule needs kind: random');
  const kind = f.has('kind') ? r.oneOf(f.get('kind')!.value, 'schedule kind', ['random'] as const) : undefined;
  const get = (key: string, fallback: number) => (f.has(key) ? r.duration(f.get(key)!.value, `schedule ${key}`) : fallback);
  const durationMs = get('duration', 60_000);
  const intervalMs = get('interval', 5_000);
  const holdMs = get('hold', 5_000);
  let faults: MenuEntry[] | undefined;
  if (!f.has('faults')) r.err(v.at, `schedule needs faults: a list drawn from ${SCHEDULABLE_FAULTS.join(', ')}`);
  else {
    const items = r.seq(f.get('faults')!.value, 'schedule faults');
    if (items && items.length === 0) r.err(f.get('faults')!.value.at, 'schedule faults must list at least one fault');
    else if (items) {
      const entries = items.map((item) => readMenuEntry(r, item, b));
      if (entries.every((e) => e !== undefined)) faults = entries as MenuEntry[];
    }
  }
  if (durationMs !== undefined && intervalMs !== undefined && holdMs !== undefined) {
    const need = Math.ceil((3 * (intervalMs + holdMs)) / 2);
    if (durationMs < need) {
      r.err(
        (f.get('duration') ?? { value: v }).value.at,
        `schedule duration ${formatDuration(durationMs)} is too short for one fault: it needs at least ${formatDuration(need)} (3/2 of interval + hold)`,
      );
      return undefined;
    }
  }
  if (!kind || durationMs === undefined || intervalMs === undefined || holdMs === undefined || !faults) return undefined;
  return { kind, durationMs, intervalMs, holdMs, faults };
}

function readMenuEntry(r: Reader, v: V, b: Bounds): MenuEntry | undefined {
  const entry = readFault(r, v, b, true) as Omit<MenuEntry, 'on'> | undefined;
  const d = r.deref(v);
  if (!entry || !d) return undefined;
  const onPair = isMap(d.node) ? d.node.items.find((p) => isScalar(p.key) && p.key.value === 'on') : undefined;
  if (!onPair) return entry as MenuEntry;
  const onAt = onPair.value?.range[0] ?? onPair.key.range[0];
  if (entry.kind === 'partition')
    return r.err(onPair.key.range[0], 'fault partition takes groups:, not on:');
  const on = readNodes(r, { node: onPair.value, at: onAt }, b, 'on');
  if (!on) return undefined;
  if (entry.kind === 'isolate' && on.length >= b.nodes)
    return r.err(onAt, 'fault isolate must leave at least one node outside on:');
  return { ...entry, on } as MenuEntry;
}

function readKernelMessages(r: Reader, v: V): ExpectedKernelMessage[] | undefined {
  const items = r.seq(v, 'expect-kernel-messages');
  if (!items) return undefined;
  const out = items.map((item): ExpectedKernelMessage | undefined => {
    const f = r.map(item, 'an expected kernel message', ['pattern', 'reason']);
    if (!f) return undefined;
    for (const key of ['pattern', 'reason'])
      if (!f.has(key)) r.err(item.at, `an expected kernel message needs ${key}:`);
    const pattern = f.has('pattern') ? r.str(f.get('pattern')!.value, 'pattern', { nonEmpty: true }) : undefined;
    const reason = f.has('reason') ? r.str(f.get('reason')!.value, 'reason', { nonEmpty: true }) : undefined;
    if (pattern !== undefined) {
      try {
        new RegExp(pattern);
      } catch (err) {
        return r.err(f.get('pattern')!.value.at, `pattern is not a valid regular expression: ${(err as Error).message}`);
      }
    }
    return pattern !== undefined && reason !== undefined ? { pattern, reason } : undefined;
  });
  return out.every((m) => m !== undefined) ? (out as ExpectedKernelMessage[]) : undefined;
}
