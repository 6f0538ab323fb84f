/** The check adapters on case records built by hand: what each reads, and judge()'s rules for silence. */
import t from 'tap';
import { CHECKS } from '../../../harness/case/schema.ts';
import { CHECK_REGISTRY, judge } from '../../../harness/judge/index.ts';
import { CaseRecord } from '../../../harness/record/read.ts';
import { makeImage, makeLog } from '../../fixtures/oracle/build.ts';
import { writeRecord, type RecordSpec } from '../../fixtures/record.ts';
import { tempDir } from '../../temp-dir.ts';

const B = 4096;
const RUN = 7;
const TOPO = `topology: {nodes: 2, leg-size: 64KiB, region-size: 16KiB}\n`;
const id = (node: number, seq: number, block: number) => ({ run: RUN, node, seq, block, offset: block * B });
const STATUS = 'clog0: 0 128 mirror 2 253:1 253:2 4/4 1 AA 3 clustered-disk 253:0 A\n';

function record(t: Parameters<typeof tempDir>[0], spec: Partial<RecordSpec> & { checks?: string }): CaseRecord {
  const yaml = `name: c\n${TOPO}steps:\n  - mirror: create\n  - workload: {name: w, block-size: 4KiB}\n  - check: [${spec.checks ?? 'no-hang'}]\n${spec.yaml ?? ''}`;
  const dir = writeRecord(tempDir(t, 'clogtest-judge-'), 'c', {
    runId: RUN,
    disks: { leg0: makeImage(16, B, []), leg1: makeImage(16, B, []), log: makeLog(4, () => true, { bytes: 1 << 20 }) },
    evidence: [{ point: 'end', ms: 100_000, live: [1, 2], nodes: { 1: { status: STATUS, kernel: 'ok\n' }, 2: { status: STATUS, kernel: 'ok\n' } } }],
    ...spec,
    yaml,
  });
  return CaseRecord.read(dir);
}

t.test('every check name has an adapter', async (t) => {
  t.same(Object.keys(CHECK_REGISTRY).sort(), [...CHECKS].sort());
});

t.test('no-stale-reads judges the readers\' logs', async (t) => {
  const write = { op: 'write', t: 200, start: 100, ...id(1, 5, 3) };
  const stale = { op: 'read', t: 400, start: 300, run: RUN, node: 1, block: 3, offset: 3 * B, kind: 'empty', found: null };
  const [v] = await judge(record(t, { writes: { 'w.jsonl': { node: 1, events: [write, stale] } } }), 'end', ['no-stale-reads']);
  t.equal(v!.valid, false);
  t.match(v!.findings, [{ kind: 'stale', block: 3, region: 0 }]);
  const fresh = { ...stale, kind: 'valid', found: { node: 1, seq: 5, run: RUN } };
  const [ok] = await judge(record(t, { writes: { 'w.jsonl': { node: 1, events: [write, fresh] } } }), 'end', ['no-stale-reads']);
  t.equal(ok!.valid, true);
  t.same(ok!.judged, [{ n: 1, what: 'reads' }]);
});

t.test('a listed check that judged nothing is inconclusive; not-applicable says why instead', async (t) => {
  const write = { op: 'write', t: 200, start: 100, ...id(1, 5, 3) };
  const rec = record(t, { checks: 'no-stale-reads', writes: { 'w.jsonl': { node: 1, events: [write] } } });
  const [v] = await judge(rec, 'end', ['no-stale-reads']);
  t.equal(v!.valid, true);
  t.equal(v!.inconclusive, true, 'no reads: nothing judged');
  const [unlisted] = await judge(record(t, { writes: { 'w.jsonl': { node: 1, events: [write] } } }), 'end', ['no-stale-reads']);
  t.equal(unlisted!.inconclusive, false, 'a check the case does not list may judge nothing');
  const excused = record(t, { checks: 'no-stale-reads', yaml: 'not-applicable: {no-stale-reads: "no readers here"}\n', writes: { 'w.jsonl': { node: 1, events: [write] } } });
  const [na] = await judge(excused, 'end', ['no-stale-reads']);
  t.equal(na!.valid, 'not-applicable');
  t.equal(na!.inconclusive, false);
  t.match(na!.detail, /^no readers here \(the case says so/);
});

t.test('dirty-before-write judges the samples taken while workloads ran', async (t) => {
  const events = [{ op: 'write-start', t: 100, ...id(1, 44, 9) }];
  const landed = makeImage(16, B, [{ block: 9, node: 1, seq: 44, runId: RUN }]);
  const empty = makeImage(16, B, []);
  const sampled = (clean: boolean) =>
    record(t, {
      checks: 'dirty-before-write',
      writes: { 'w.jsonl': { node: 1, events } },
      files: { 'samples/s1-m0-log.img': makeLog(4, () => clean), 'samples/s1-m0-leg0.img': landed, 'samples/s1-m0-leg1.img': empty },
      events: [{ type: 'sample', ms: 50, fields: { sample: 1, mirror: 0, freezeNs: { 1: 150 }, log: 'samples/s1-m0-log.img', legs: [{ label: 'clog0/leg0', file: 'samples/s1-m0-leg0.img' }, { label: 'clog0/leg1', file: 'samples/s1-m0-leg1.img' }], trigger: 'test' } }],
    });
  const [bad] = await judge(sampled(true), 'end', ['dirty-before-write']);
  t.equal(bad!.valid, false, bad!.detail);
  t.match(bad!.findings, [{ kind: 'clean-while-in-flight', region: 2, block: 9 }]);
  const [good] = await judge(sampled(false), 'end', ['dirty-before-write']);
  t.equal(good!.valid, true);
  t.same(good!.judged, [{ n: 1, what: 'in-flight writes' }, { n: 1, what: 'samples' }]);
  const [none] = await judge(record(t, { checks: 'dirty-before-write', writes: { 'w.jsonl': { node: 1, events } } }), 'end', ['dirty-before-write']);
  t.equal(none!.inconclusive, true, 'no sample is no verdict');
  // The same sample judged by clean-implies-equal: region 2 is clean in the log and its legs differ.
  const [cie] = await judge(sampled(true), 'end', ['clean-implies-equal']);
  t.equal(cie!.valid, false);
  t.match(cie!.findings, [{ kind: 'legs-differ', region: 2, block: 9 }]);
  t.match(cie!.detail, /clog0 sample 1: clean region 2/);
});

t.test('a log device that does not decode is a finding, not a check that could not run', async (t) => {
  const rec = record(t, { disks: { leg0: makeImage(16, B, []), leg1: makeImage(16, B, []), log: Buffer.alloc(1 << 20) } });
  const [v] = await judge(rec, 'end', ['clean-implies-equal']);
  t.equal(v!.valid, false);
  t.match(v!.findings, [{ kind: 'log-undecodable', message: /bad magic 0x00000000.*never written/ }]);
});

t.test('disk-log checks have nothing to judge on clustered-core', async (t) => {
  const dir = writeRecord(tempDir(t, 'clogtest-judge-'), 'core', {
    runId: RUN,
    yaml: `name: core\ntopology: {nodes: 2, log-type: clustered-core, leg-size: 64KiB, region-size: 16KiB}\nsteps:\n  - check: [clean-implies-equal]\n`,
    disks: { leg0: makeImage(16, B, []), leg1: makeImage(16, B, []) },
    evidence: [{ point: 'end', ms: 100, live: [1, 2], nodes: {} }],
  });
  const vs = await judge(CaseRecord.read(dir), 'end', ['clean-implies-equal', 'dirty-before-write']);
  t.same(vs.map((v) => [v.valid, v.inconclusive]), [['not-applicable', false], ['not-applicable', false]]);
});

const poll = (node: number, round: number, ms: number, members: number[], writes?: number) => ({
  type: 'poll' as const,
  ms,
  fields: { node, round, daemon: true, groups: { 'clogtest-00000007-m0': members }, logWrites: writes === undefined ? {} : { 'clogtest-00000007-m0': writes } },
});

t.test('single-writer: two unfenced servers, fencing in the history, and writes behind the server', async (t) => {
  const split = [poll(1, 1, 10, [1]), poll(2, 1, 10, [2])];
  const [v] = await judge(record(t, { events: split }), 'end', ['single-writer']);
  t.equal(v!.valid, false);
  t.match(v!.findings, [{ kind: 'two-servers', nodes: ['node1', 'node2'] }]);
  const fenced = [
    ...split,
    { type: 'fault' as const, ms: 5, fields: { fault: 'partition', nodes: [1, 2], event: 'start' } },
    { type: 'fault' as const, ms: 6, fields: { fault: 'crash', nodes: [2], event: 'start' } },
  ];
  t.equal((await judge(record(t, { events: fenced }), 'end', ['single-writer']))[0]!.valid, true);
  // After the fixture's mirror create has settled: log writes during a mirror operation are not judged.
  const sneaky = [poll(1, 1, 20_000, [1, 2], 5), poll(2, 1, 20_000, [1, 2], 0), poll(1, 2, 30_000, [1, 2], 9), poll(2, 2, 30_000, [1, 2], 3)];
  const [w] = await judge(record(t, { events: sneaky }), 'end', ['single-writer']);
  t.equal(w!.valid, false);
  t.match(w!.findings, [{ kind: 'non-server-write', nodes: ['node2'], message: /node2 wrote the log device of clogtest-00000007-m0 3 time\(s\)/ }]);
  t.same(w!.judged, [{ n: 4, what: "views of a node in a log's group" }, { n: 2, what: 'intervals with log writes' }]);
});

const statusPoll = (node: number, round: number, ms: number, synced: number) => ({
  type: 'poll' as const,
  ms,
  fields: { node, round, daemon: true, groups: {}, logWrites: {}, status: `clog0: 0 128 mirror 2 253:1 253:2 ${synced}/4 1 AA 3 clustered-disk 253:0 A\n` },
});

t.test('nodes-agree during I/O: a disagreement that holds still between polls, outside fault windows', async (t) => {
  // After the fixture's mirror create and the quarter of a minute nodes get to settle after it.
  const rounds = [statusPoll(1, 1, 20_000, 4), statusPoll(2, 1, 20_000, 3), statusPoll(1, 2, 30_000, 4), statusPoll(2, 2, 30_000, 3)];
  const [v] = await judge(record(t, { events: rounds }), 'end', ['nodes-agree']);
  t.equal(v!.valid, false, v!.detail);
  t.match(v!.findings, [{ kind: 'status-differs-during-io', message: /^during I\/O at \+30.0s: mirror clog0: SYNCED\/REGIONS differs across nodes: node1 4\/4; node2 3\/4/ }]);
  const moving = [statusPoll(1, 1, 20_000, 4), statusPoll(2, 1, 20_000, 2), statusPoll(1, 2, 30_000, 4), statusPoll(2, 2, 30_000, 3)];
  t.equal((await judge(record(t, { events: moving }), 'end', ['nodes-agree']))[0]!.valid, true, 'a node still resyncing is not judged');
  const excused = [{ type: 'fault' as const, ms: 16_000, fields: { fault: 'crash', nodes: [3], event: 'start' } }, ...rounds];
  t.equal((await judge(record(t, { events: excused }), 'end', ['nodes-agree']))[0]!.valid, true, 'inside a crash window');
  const slowOnly = [{ type: 'fault' as const, ms: 16_000, fields: { fault: 'slow-leg', nodes: [2], event: 'start' } }, ...rounds];
  t.equal((await judge(record(t, { events: slowOnly }), 'end', ['nodes-agree']))[0]!.valid, false, 'a slow leg excuses nothing');
  const duringCreate = [statusPoll(1, 1, 5_000, 4), statusPoll(2, 1, 5_000, 3), statusPoll(1, 2, 8_000, 4), statusPoll(2, 2, 8_000, 3)];
  t.equal((await judge(record(t, { events: duringCreate }), 'end', ['nodes-agree']))[0]!.valid, true, 'nodes settling after a mirror operation are not judged');
});

t.test('nodes-agree during I/O: a node whose mirror is suspended is not judged until it is loaded again', async (t) => {
  const mirrorStep = (step: number, op: string, nodes: number[], from: number, done: number) => [
    { type: 'step' as const, ms: from, fields: { step, kind: 'mirror', op, nodes, event: 'start' } },
    { type: 'step' as const, ms: done, fields: { step, kind: 'mirror', event: 'done' } },
  ];
  // Node 2's log is out of the group from 20 s on: its status says so in every round after the suspend.
  const rounds = [40_000, 50_000, 60_000].flatMap((ms, i) => [statusPoll(1, i + 1, ms, 4), statusPoll(2, i + 1, ms, 3)]);
  const suspended = [...mirrorStep(2, 'suspend', [2], 20_000, 21_000), ...rounds];
  t.equal((await judge(record(t, { events: suspended }), 'end', ['nodes-agree']))[0]!.valid, true, 'never resumed: not judged');
  const resumedLate = [...suspended, ...mirrorStep(3, 'resume', [2], 55_000, 56_000)];
  t.equal((await judge(record(t, { events: resumedLate }), 'end', ['nodes-agree']))[0]!.valid, true, 'resumed after the last round');
  const resumedEarly = [...mirrorStep(2, 'suspend', [2], 20_000, 21_000), ...mirrorStep(3, 'resume', [2], 22_000, 23_000), ...rounds];
  const [v] = await judge(record(t, { events: resumedEarly }), 'end', ['nodes-agree']);
  t.equal(v!.valid, false, 'resumed and settled: judged again');
  const otherResumed = [...mirrorStep(2, 'suspend', [2], 20_000, 21_000), ...mirrorStep(3, 'resume', [1], 22_000, 23_000), ...rounds];
  t.equal((await judge(record(t, { events: otherResumed }), 'end', ['nodes-agree']))[0]!.valid, true, 'another node\'s resume does not end it');
});

t.test('nodes-agree follows each node\'s sync count: a drop with no window between is a finding, even while nodes settle after a create', async (t) => {
  const mirrorStep = (step: number, op: string, from: number, done: number) => [
    { type: 'step' as const, ms: from, fields: { step, kind: 'mirror', op, nodes: [1, 2], event: 'start' } },
    { type: 'step' as const, ms: done, fields: { step, kind: 'mirror', event: 'done' } },
  ];
  const rounds = [statusPoll(1, 1, 5_000, 4), statusPoll(2, 1, 5_000, 4), statusPoll(1, 2, 8_000, 2), statusPoll(2, 2, 8_000, 4)];
  const [v] = await judge(record(t, { events: rounds }), 'end', ['nodes-agree']);
  t.equal(v!.valid, false, v!.detail);
  t.match(v!.findings, [{ kind: 'resync-went-back', nodes: ['node1'], message: /in sync 4\/4 at \+5.0s, then 2\/4 at \+8.0s/ }]);
  const reloaded = [...mirrorStep(2, 'reload', 6_000, 7_000), ...rounds];
  t.equal((await judge(record(t, { events: reloaded }), 'end', ['nodes-agree']))[0]!.valid, true, 'a reload between the rounds');
});

t.test('invalid-tables-refused reads the malformed tables the case tried, and the dumps', async (t) => {
  const table = (variant: string, refused: boolean) => ({
    type: 'table' as const,
    ms: 30_000,
    fields: { node: 1, mirror: 0, variant, uuid: `U-${variant}`, table: 'T', refusedBy: 'cmirrord clog_ctr', refused, error: 'Invalid argument', leftDevice: false, step: 2 },
  });
  // The fixture's case has no load-invalid step, so it cannot list the check (the loader refuses that); judged all the same.
  const [ok] = await judge(record(t, { events: [table('unknown-log-type', true)] }), 'end', ['invalid-tables-refused']);
  t.equal(ok!.valid, true, ok!.detail);
  t.same(ok!.judged[0], { n: 1, what: 'malformed tables' });
  const [bad] = await judge(record(t, { events: [table('unknown-log-type', false)] }), 'end', ['invalid-tables-refused']);
  t.equal(bad!.valid, false);
  t.match(bad!.findings, [{ kind: 'invalid-table-accepted', nodes: ['node1'] }]);
  const [none] = await judge(record(t, {}), 'end', ['invalid-tables-refused']);
  t.equal(none!.valid, 'unknown', 'no table tried: no verdict');
});

t.test('no-hang counts the steps and reports the hangs', async (t) => {
  // The fixture's case has a mirror create step (done) already; one more step done and one that hung.
  const events = [
    { type: 'step' as const, ms: 5, fields: { step: 2, event: 'done' } },
    { type: 'hang' as const, ms: 50, fields: { what: 'step 3 (line 5: wait sync): timed out' } },
  ];
  const [v] = await judge(record(t, { events }), 'end', ['no-hang']);
  t.equal(v!.valid, false);
  t.same(v!.judged, [{ n: 3, what: 'steps' }]);
  t.match(v!.findings, [{ kind: 'hang', message: /wait sync/ }]);
});

t.test('no-lost-writes holds only the default leg to every acknowledged write while the mirror is not in sync', async (t) => {
  const id9 = id(1, 44, 9);
  const writes = { 'w.jsonl': { node: 1, events: [{ op: 'write-start', t: 1, ...id9 }, { op: 'write', t: 2, start: 1, ...id9 }] } };
  const disks = { leg0: makeImage(16, B, [{ block: 9, node: 1, seq: 44, runId: RUN }]), leg1: makeImage(16, B, []), log: makeLog(4, () => true, { bytes: 1 << 20 }) };
  const behind = 'clog0: 0 128 mirror 2 253:1 253:2 3/4 1 AA 3 clustered-disk 253:0 A\n';
  const late = record(t, { writes, disks, evidence: [{ point: 'end', ms: 100, live: [1, 2], nodes: { 1: { status: behind }, 2: { status: STATUS } } }] });
  const [v] = await judge(late, 'end', ['no-lost-writes']);
  t.equal(v!.valid, true, v!.detail);
  t.match(v!.detail, /the default leg only: not in sync on node1/);
  const [synced] = await judge(record(t, { writes, disks }), 'end', ['no-lost-writes']);
  t.equal(synced!.valid, false, 'in sync, leg 1 must hold the write too');
});

t.test('a case that never created its mirror has nothing on its log device to judge', async (t) => {
  const dir = writeRecord(tempDir(t, 'clogtest-judge-'), 'nomirror', {
    runId: RUN,
    yaml: `name: nomirror\n${TOPO}steps:\n  - wait: {seconds: 1}\n  - check: [clean-implies-equal]\n`,
    disks: { leg0: makeImage(16, B, []), leg1: makeImage(16, B, []), log: Buffer.alloc(1 << 20) },
    evidence: [{ point: 'end', ms: 100, live: [1, 2], nodes: {} }],
  });
  const vs = await judge(CaseRecord.read(dir), 'end', ['clean-implies-equal', 'dirty-before-write', 'legs-converge']);
  t.same(vs.map((v) => v.valid), ['not-applicable', 'not-applicable', 'not-applicable'], 'an all-zero log device is no finding then');
});
