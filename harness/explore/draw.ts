/**
 * Scenarios drawn from a seed, and the reductions a shrinker tries on one (pure). The same seed draws the
 * same scenario on every machine (base/random.ts), so `clogtest explore --seed S` replays a draw, and the
 * case file written for a scenario replays it without the seed.
 */
import { seededRandom } from '../base/random.ts';
import { faultSpec } from '../case/fault-kinds.ts';
import { LIMITS, type LogType, type NodeId } from '../case/schema.ts';
import { removals } from './shrink.ts';
import { isMirrorOp, recoveryOf, type Action, type Moment, type Role, type Scenario, type ScenarioEvent } from './scenario.ts';

type Rand = () => number;

function pick<T>(rand: Rand, items: readonly T[]): T {
  return items[Math.floor(rand() * items.length)]!;
}

/** Weighted choice: [item, weight] pairs. */
function weighted<T>(rand: Rand, items: ReadonlyArray<readonly [T, number]>): T {
  const total = items.reduce((s, [, w]) => s + w, 0);
  let x = rand() * total;
  for (const [item, w] of items) if ((x -= w) < 0) return item;
  return items[items.length - 1]![0];
}

const between = (rand: Rand, lo: number, hi: number) => lo + Math.floor(rand() * (hi - lo + 1));

/**
 * How often each action is drawn. Killing cmirrord or corosync hangs I/O for good on the stock stack (bugs 4,
 * 5 and 7) and each such scenario then waits out its deadlines, so they are drawn less often than the rest.
 */
const ACTION_WEIGHTS: ReadonlyArray<readonly [Action, number]> = [
  ['crash', 3],
  ['reset', 1],
  ['pause', 2],
  ['kill-daemon', 1],
  ['kill-corosync', 1],
  ['net-loss', 1],
  ['net-delay', 1],
  ['slow-log', 1],
  ['fail-leg', 2],
  ['suspend', 2],
  ['reload', 2],
];

/** Actions that take one node out of the group, where a held write of that node is the interesting moment. */
const STOPS_A_NODE: readonly Action[] = ['crash', 'reset', 'pause', 'kill-daemon', 'kill-corosync', 'suspend'];

/**
 * An event that takes a node's slowed leg 1 away: a crashed or reset node comes back without it, and
 * restore-leg puts back the plain leg. A later event on that node cannot wait for a held write.
 */
const losesSlowLeg = (e: ScenarioEvent, node: NodeId) => e.on.includes(node) && (e.action === 'crash' || e.action === 'reset' || (e.action === 'fail-leg' && e.param === 1));

const otherNodes = (nodes: number) => Array.from({ length: nodes - 1 }, (_, i) => i + 2);

export interface DrawOptions {
  seed: number;
  /** Names the scenario; the origin goes in its description. */
  name: string;
  origin: string;
  /** Only actions that make sense on this log type (slow-log needs a log device). */
  logType?: LogType;
  /** The cluster's corosync token timeout: a pause is drawn shorter (holdOf). */
  tokenMs: number;
}

export function drawScenario(o: DrawOptions): Scenario {
  const rand = seededRandom(o.seed);
  const nodes = weighted(rand, [[2, 3], [3, 5], [4, 2], [5, 1], [8, 0.5]] as const);
  const legs = weighted(rand, [[2, 4], [3, 1]] as const);
  const logType: LogType = o.logType ?? weighted(rand, [['clustered-disk', 4], ['clustered-core', 1]] as const);
  const create = weighted(rand, [['create-in-sync', 4], ['create', 1]] as const);
  // A resync of 64 MiB takes 20-40 s under TCG: long enough for an event to land in it.
  const legSizeMiB = create === 'create' ? 64 : pick(rand, [16, 32, 64]);
  const regionSizeKiB = pick(rand, [256, 512, 1024]);
  // Each in-flight write is a guest thread: three writers of 32 each on every TCG guest took more than 30 s to
  // get a write into a slowed leg, so a deep queue has one writer.
  const depth = weighted(rand, [[1, 3], [8, 1], [32, 1]] as const);
  const workload = {
    writers: depth > 1 ? 1 : between(rand, 1, 3),
    depth,
    regions: pick(rand, ['own', 'shared', 'all'] as const),
    durationS: 0,
    readers: rand() < 0.7,
  };
  const count = weighted(rand, [[1, 3], [2, 2], [3, 1]] as const);
  const events: ScenarioEvent[] = [];
  let slowLeg: Scenario['slowLeg'];
  for (let i = 0; i < count; i++) {
    const action = drawAction(rand, logType);
    const role: Role = action === 'net-loss' || action === 'net-delay' ? pick(rand, ['server', 'other', 'all'] as const) : pick(rand, ['server', 'other'] as const);
    const on = role === 'server' ? [1] : role === 'other' ? [pick(rand, otherNodes(nodes))] : Array.from({ length: nodes }, (_, k) => k + 1);
    let moment: Moment = 'during-writes';
    // A plain create is drawn for its resync: the first event lands in it, and no write is held in a slowed
    // leg, since the resync's own slowed leg 1 is on every node.
    if (i === 0 && create === 'create') moment = 'during-resync';
    else if (create === 'create-in-sync' && !slowLeg && STOPS_A_NODE.includes(action) && role !== 'all' && !events.some((x) => losesSlowLeg(x, on[0]!)) && rand() < 0.6) {
      moment = 'held-write';
      slowLeg = { node: on[0]!, delayMs: pick(rand, [2000, 3000, 5000]) };
    }
    events.push({
      action,
      on,
      role,
      moment,
      afterMs: moment === 'during-writes' ? between(rand, 1, 8) * 1000 : 0,
      holdMs: holdOf(rand, action, o.tokenMs),
      recover: true,
      ...paramOf(rand, action, legs, o.tokenMs),
      overlapsNext: false,
    });
  }
  for (let i = 0; i + 1 < events.length; i++) if (mayOverlap(events[i]!, events[i + 1]!, nodes) && rand() < 0.3) events[i]!.overlapsNext = true;
  workload.durationS = writersOutlast(events, 15);
  return { name: o.name, origin: o.origin, seed: o.seed, nodes, legs, legSizeMiB, regionSizeKiB, logType, create, workload, ...(slowLeg ? { slowLeg } : {}), events, waitWorkload: true, waitSync: true };
}

/**
 * What undoing an event takes besides its hold: a crashed or reset node boots again and rejoins (up to 30 s
 * under TCG), a killed daemon is started again. A wait for a held write after a node came back found the
 * writers done when this was left out (explore-20261210-7: the restart took 27 s).
 */
const UNDO_MS: Partial<Record<Action, number>> = { crash: 30_000, reset: 30_000, 'kill-daemon': 5_000, 'kill-corosync': 5_000 };

/** The writers' duration, in s: at least `atLeastS`, and outlasting every event and its undoing by a few seconds, so every fault lands under writes. */
function writersOutlast(events: readonly ScenarioEvent[], atLeastS: number): number {
  const needS = Math.ceil(events.reduce((n, e) => n + e.afterMs + e.holdMs + (UNDO_MS[e.action] ?? 0), 0) / 1000) + 8;
  return Math.min(120, Math.max(atLeastS, needS));
}

function drawAction(rand: Rand, logType: LogType): Action {
  const menu = ACTION_WEIGHTS.filter(([a]) => a !== 'slow-log' || logType === 'clustered-disk');
  return weighted(rand, menu);
}

/**
 * How long an event lasts. A pause is drawn shorter than two thirds of the corosync token: a node paused
 * longer is evicted from the ring and goes on unfenced when it is let go, serving a log of its own as an
 * isolated node does (see ACTIONS), and every finding after that would be a false alarm.
 */
function holdOf(rand: Rand, action: Action, tokenMs: number): number {
  if (action !== 'pause') return between(rand, 3, 10) * 1000;
  const most = Math.max(1, Math.floor((tokenMs * 2) / 3 / 100));
  return between(rand, Math.min(5, most), most) * 100;
}

/**
 * Network faults are drawn below what evicts a node under TCG: a 2-node ring lost its token to a 400 ms
 * delay (3 s token), and a 350 ms delay with 40 % loss split another; each came back unfenced, out of
 * the model. So at most a twelfth of the token in delay, and 30 % in loss.
 */
function paramOf(rand: Rand, action: Action, legs: number, tokenMs: number): { param?: number } {
  switch (action) {
    case 'net-loss':
      return { param: between(rand, 1, 3) * 10 };
    case 'net-delay':
      return { param: between(rand, 1, Math.max(1, Math.floor(tokenMs / 12 / 50))) * 50 };
    case 'slow-log':
      return { param: pick(rand, [500, 1000, 2000]) };
    case 'fail-leg':
      return { param: between(rand, 0, legs - 1) };
    default:
      return {};
  }
}

/**
 * Two events may overlap when they touch different nodes and their recoveries do not undo each other: heal
 * undoes every network fault at once, and a reload after a failed leg would also reload the other's mirror.
 * Two that each take a node out of the ring must leave a majority up: a node restarted while the ring has
 * no quorum waits for it for good (two nodes of a two-node cluster, killed and reset at once, did).
 */
function mayOverlap(a: ScenarioEvent, b: ScenarioEvent, nodes: number): boolean {
  const heals = (e: ScenarioEvent) => e.action === 'net-loss' || e.action === 'net-delay';
  if (heals(a) && heals(b)) return false;
  if ([a, b].some((e) => e.action === 'fail-leg' || isMirrorOp(e.action) || e.role === 'all')) return false;
  if (a.on.some((n) => b.on.includes(n))) return false;
  const out = (e: ScenarioEvent) => (leavesRing(e.action) ? e.on.length : 0);
  return nodes - out(a) - out(b) > nodes / 2;
}

const leavesRing = (a: Action) => !isMirrorOp(a) && faultSpec(a).leavesRing;

/** Every node a scenario names. */
function namedNodes(s: Scenario): NodeId[] {
  return [...s.events.flatMap((e) => (e.role === 'all' ? [] : e.on)), ...(s.slowLeg ? [s.slowLeg.node] : [])];
}

/**
 * Smaller scenarios, biggest cut first: fewer events, then fewer steps (the waits, the held write, a
 * recovery), then simpler events, then a smaller cluster, workload and mirror.
 */
export function scenarioReductions(s: Scenario): Scenario[] {
  const out: Scenario[] = [];
  const add = (c: Partial<Scenario>) => out.push(normalise({ ...s, ...c }));
  for (const events of removals(s.events)) add({ events });
  // Cuts that take steps away first: a shrink has a budget, and a case is read by its steps.
  if (s.waitSync) add({ waitSync: false });
  if (s.waitWorkload) add({ waitWorkload: false });
  if (s.slowLeg) add({ slowLeg: undefined });
  if (s.checkStep !== false) add({ checkStep: false });
  const setEvent = (i: number, c: Partial<ScenarioEvent>) => add({ events: s.events.map((x, j) => (j === i ? { ...x, ...c } : x)) });
  s.events.forEach((e, i) => e.recover && recoveryOf(e.action) && setEvent(i, { recover: false }));
  s.events.forEach((e, i) => {
    if (e.overlapsNext) setEvent(i, { overlapsNext: false });
    if (e.afterMs > 0) setEvent(i, { afterMs: 0 });
    if (e.holdMs > 2000) setEvent(i, { holdMs: Math.max(2000, Math.floor(e.holdMs / 2000) * 1000) });
  });
  if (s.nodes > LIMITS.nodes.min && !namedNodes(s).includes(s.nodes)) add({ nodes: s.nodes - 1 });
  if (s.legs > 2 && !s.events.some((e) => e.action === 'fail-leg' && e.param === s.legs - 1)) add({ legs: s.legs - 1 });
  if (s.workload.writers > 1) add({ workload: { ...s.workload, writers: 1 } });
  if (s.workload.depth > 1) add({ workload: { ...s.workload, depth: 1 } });
  if (s.workload.readers) add({ workload: { ...s.workload, readers: false } });
  if (s.workload.regions !== 'own') add({ workload: { ...s.workload, regions: 'own' } });
  // Shorter writers only where they still outlast the events (normalise would lengthen them again).
  if (s.workload.durationS > writersOutlast(s.events, 10)) add({ workload: { ...s.workload, durationS: Math.max(10, Math.ceil(s.workload.durationS / 2)) } });
  if (s.legSizeMiB > 16 && s.create === 'create-in-sync') add({ legSizeMiB: s.legSizeMiB / 2 });
  if (s.create === 'create' && !s.events.some((e) => e.moment === 'during-resync')) add({ create: 'create-in-sync' });
  return out;
}

/**
 * Keeps a cut or mutated scenario consistent: an event waiting for a held write needs the slowed leg on its
 * node, one during the resync must be the first after a plain create, an overlap needs a next event it may
 * overlap, and the writers outlast the events.
 */
function normalise(scenario: Scenario): Scenario {
  const resyncs = scenario.create === 'create' && scenario.events[0]?.moment === 'during-resync';
  const { slowLeg, ...rest } = scenario;
  const s: Scenario = resyncs || !slowLeg ? rest : { ...rest, slowLeg };
  const events = s.events.map((e, i) => {
    const held = e.moment === 'held-write' && s.slowLeg?.node === e.on[0] && !s.events.slice(0, i).some((x) => losesSlowLeg(x, e.on[0]!));
    const resync = e.moment === 'during-resync' && i === 0 && s.create === 'create';
    return {
      ...e,
      moment: e.moment === 'during-writes' || held || resync ? e.moment : ('during-writes' as const),
      overlapsNext: e.overlapsNext && i + 1 < s.events.length && mayOverlap(e, s.events[i + 1]!, s.nodes),
    };
  });
  return { ...s, events, workload: { ...s.workload, durationS: writersOutlast(events, s.workload.durationS) } };
}

/**
 * A scenario near `s`, for a coverage-guided corpus: one part of it (an event, the workload, the topology, or a
 * new event) replaced by the same part of a scenario drawn from `seed`. Nodes a kept part names stay in the
 * cluster.
 */
export function mutateScenario(s: Scenario, seed: number, name: string, origin: string, tokenMs: number): Scenario {
  const rand = seededRandom(seed);
  const fresh = drawScenario({ seed, name, origin, logType: s.logType, tokenMs });
  const fits = (e: ScenarioEvent) => e.role === 'all' || e.on.every((n) => n <= s.nodes);
  const retarget = (e: ScenarioEvent): ScenarioEvent => (fits(e) ? e : { ...e, on: [pick(rand, otherNodes(s.nodes))] });
  const freshEvent = retarget({ ...fresh.events[0]!, overlapsNext: false });
  const parts: Array<() => Partial<Scenario>> = [
    () => ({ events: s.events.map((e, i, all) => (i === Math.floor(rand() * all.length) ? freshEvent : e)) }),
    () => ({ workload: fresh.workload }),
    () => (namedNodes(s).every((n) => n <= fresh.nodes) ? { nodes: fresh.nodes, legSizeMiB: fresh.legSizeMiB, regionSizeKiB: fresh.regionSizeKiB } : { regionSizeKiB: fresh.regionSizeKiB }),
    () => (s.events.length < 3 ? { events: [...s.events, freshEvent] } : { events: s.events.slice(1) }),
  ];
  const change = pick(rand, parts)();
  const events = change.events ?? s.events;
  // A new event's held write brings its slowed leg when the scenario has none.
  const slowLeg = s.slowLeg ?? (freshEvent.moment === 'held-write' && events.includes(freshEvent) && fresh.slowLeg ? { ...fresh.slowLeg, node: freshEvent.on[0]! } : undefined);
  return normalise({ ...s, ...change, name, origin, seed, ...(slowLeg ? { slowLeg } : {}) });
}

