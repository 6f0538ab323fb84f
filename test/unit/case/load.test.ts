import t from 'tap';
import { validateCase } from '../../../harness/case/load.ts';
import { KNOWN_BUGS } from '../../../harness/case/known-bugs.ts';
import { TOPOLOGY_DEFAULTS, type Case } from '../../../harness/case/schema.ts';

const CATALOGUE = [...KNOWN_BUGS.keys()].join(', ');

const HEAD = 'name: t\n';
const STEPS = 'steps:\n  - mirror: create\n';

/** Each source's errors as `line:col: message`, in file order. */
const malformed: Array<[title: string, source: string, errors: string[]]> = [
  ['unknown top-level key', `${HEAD}descripton: x\n${STEPS}`, ['2:1: unknown key "descripton" in the case (did you mean "description"?)']],
  ['missing name', `description: x\n${STEPS}`, ['1:1: missing required key "name"']],
  ['unknown step kind', `${HEAD}steps:\n  - reboot: all\n`, ['3:5: unknown step "reboot"; expected one of mirror, wait, workload, fault, check, diverge-legs, schedule']],
  [
    'unknown fault kind',
    `${HEAD}steps:\n  - fault: explode\n    on: [1]\n`,
    ['3:12: unknown fault kind "explode"; expected one of crash, reset, pause, resume, kill-daemon, stop-daemon, restart-daemon, kill-corosync, partition, isolate, heal, net-loss, net-delay, fail-leg, restore-leg, fail-log, restore-log, slow-leg, slow-log, restart-node'],
  ],
  [
    'unknown check name',
    `${HEAD}steps:\n  - check: [legs-converge, no-lost-write]\n`,
    ['3:28: unknown check "no-lost-write" (did you mean "no-lost-writes"?)'],
  ],
  ['wrong type for nodes', `${HEAD}topology:\n  nodes: three\n${STEPS}`, ['3:10: topology.nodes must be a whole number, got "three"']],
  ['nodes out of range', `${HEAD}topology: {nodes: 9}\n${STEPS}`, ['2:19: topology.nodes must be from 2 to 8, got 9']],
  ['on: names a node the topology lacks', `${HEAD}steps:\n  - fault: crash\n    on: [1, 5]\n`, ['4:13: node 5 does not exist: topology has nodes 1..3']],
  [
    'region size not a power of two',
    `${HEAD}topology:\n  region-size: 384KiB\n${STEPS}`,
    ['3:16: topology.region-size must be a power of two, got 384KiB'],
  ],
  [
    'region size not whole sectors',
    `${HEAD}topology:\n  region-size: 256\n${STEPS}`,
    ['3:16: topology.region-size must be a positive multiple of 512 bytes, got 256B'],
  ],
  [
    'log device too small for the bitmap',
    `${HEAD}topology:\n  leg-size: 4GiB\n  region-size: 512\n  log-size: 1MiB\n${STEPS}`,
    ['5:13: topology.log-size 1MiB is too small for 8388608 regions: the log needs 1049600 bytes (1024-byte header + 1 bit per region, in whole sectors)'],
  ],
  ['resend timeout in part-seconds', `${HEAD}topology: {log-retry-timeout: 1500ms}\n${STEPS}`, ['2:31: topology.log-retry-timeout must be a whole number of seconds, at least 1s, got 1500 ms']],
  ['log device under 1 MiB', `${HEAD}topology: {log-size: 512KiB}\n${STEPS}`, ['2:22: topology.log-size must be at least 1MiB, got 512KiB']],
  [
    'bad duration string',
    `${HEAD}steps:\n  - mirror: create\n    after: 30 sec\n`,
    ['4:12: after: bad duration "30 sec": use seconds or a number with ms, s, m or h, like 500ms, 30s, 2m'],
  ],
  [
    'bad size string',
    `${HEAD}topology:\n  leg-size: 64MB\n${STEPS}`,
    ['3:13: topology.leg-size: bad size "64MB": use bytes or a whole number with B, KiB, MiB, GiB or TiB, like 512KiB, 64MiB'],
  ],
  ['YAML syntax error', `${HEAD}tags: [a, b\n${STEPS}`, ['3:1: YAML syntax error: Flow sequence in block collection must be sufficiently indented and end with a ]']],
  ['duplicate key', `${HEAD}${STEPS}name: u\n`, ['4:1: duplicate key "name"']],
  [
    'partition groups overlap',
    `${HEAD}steps:\n  - fault: {kind: partition, groups: [[1, 2], [2, 3]]}\n`,
    ['3:48: node 2 is in two partition groups (groups 1 and 2)'],
  ],
  ['partition group names an unknown node', `${HEAD}steps:\n  - fault: {kind: partition, groups: [[1], [2, 4]]}\n`, ['3:48: node 4 does not exist: topology has nodes 1..3']],
  [
    'partition groups leave a node out',
    `${HEAD}steps:\n  - fault: {kind: partition, groups: [[1], [2]]}\n`,
    ['3:38: partition groups leave out node 3: every node must be in one group'],
  ],
  [
    'known-failure not a mapping',
    `${HEAD}known-failure: true\n${STEPS}`,
    ['2:16: known-failure must be a mapping, got boolean true'],
  ],
  ['empty steps', `${HEAD}steps: []\n`, ['2:8: steps must list at least one step']],
  ['crash without on:', `${HEAD}steps:\n  - fault: crash\n`, ['3:5: fault crash needs on: naming its nodes']],
  ['two actions in one step', `${HEAD}steps:\n  - mirror: create\n    check: [no-hang]\n`, ['4:5: a step takes exactly one action; this one already has mirror']],
  ['leg index out of range', `${HEAD}steps:\n  - fault: {kind: fail-leg, leg: 2}\n`, ['3:34: leg 2 does not exist: topology has legs 0..1']],
  ['fail-leg without leg', `${HEAD}steps:\n  - fault: {kind: fail-leg}\n`, ['3:12: fault fail-leg needs leg:']],
  ['unknown fault parameter', `${HEAD}steps:\n  - fault: {kind: net-loss, percent: 20, burst: 3}\n`, ['3:42: unknown key "burst" in fault net-loss; expected one of percent']],
  [
    'fail-log on clustered-core',
    `${HEAD}topology: {log-type: clustered-core}\nsteps:\n  - fault: fail-log\n`,
    ['4:12: fault fail-log needs a log device: log-type clustered-core has none'],
  ],
  [
    'wait for a workload that never started',
    `${HEAD}steps:\n  - wait: {until: workload w9 done}\n`,
    ['3:19: no workload named "w9" starts before this step'],
  ],
  [
    'block size that does not divide the region',
    `${HEAD}steps:\n  - workload: {block-size: 3KiB}\n`,
    ['3:28: block-size 3KiB must divide region-size 512KiB'],
  ],
  [
    'schedule without a schedule: run step',
    `${HEAD}schedule: {kind: random, faults: [crash]}\n${STEPS}`,
    ['2:1: schedule: is never run: add the step "schedule: run" where its faults go'],
  ],
  [
    'recovery on a schedule menu',
    `${HEAD}schedule: {kind: random, faults: [crash, heal]}\nsteps:\n  - schedule: run\n`,
    ['2:42: fault heal cannot be on a schedule menu: the schedule adds recoveries itself; expected one of crash, reset, pause, kill-daemon, kill-corosync, partition, isolate, net-loss, net-delay, fail-leg, fail-log, slow-leg, slow-log'],
  ],
  ['bad expected kernel message pattern', `${HEAD}expect-kernel-messages:\n  - {pattern: "raid1: (", reason: x}\n${STEPS}`, ['3:15: pattern is not a valid regular expression: Invalid regular expression: /raid1: (/: Unterminated group']],
  ['empty file', '', ['1:1: empty case file: a case needs at least name: and steps:']],
  ['schedule: run without a schedule', `${HEAD}steps:\n  - schedule: run\n`, ['3:5: "schedule: run" needs a schedule: block at the top of the case']],
  ['a step with no action', `${HEAD}steps:\n  - on: [1]\n    after: 2s\n`, ['3:5: a step needs one action: mirror, wait, workload, fault, check, diverge-legs, schedule']],
  [
    'workload name used twice',
    `${HEAD}steps:\n  - workload: {name: w}\n  - workload: {name: w}\n`,
    ['4:22: workload name "w" is already used on line 3'],
  ],
  [
    'wait for a slow leg before any slow-leg fault',
    `${HEAD}steps:\n  - wait: {until: slow leg busy}\n    on: [1]\n  - fault: {kind: slow-leg, leg: 1, delay: 1s}\n    on: [1]\n`,
    ['3:5: wait until "slow leg busy" needs a slow-leg fault in an earlier step'],
  ],
  ['known failure without bugs', `${HEAD}known-failure: {intermittent: true}\n${STEPS}`, [`2:16: known-failure needs bugs: (numbers of the catalogue in harness/case/known-bugs.ts: ${CATALOGUE})`]],
  ['known failure naming a bug the catalogue lacks', `${HEAD}known-failure: {bugs: [3, 99]}\n${STEPS}`, [`2:27: known-failure: no bug 99 in the catalogue (harness/case/known-bugs.ts has ${CATALOGUE})`]],
  ['heal with on:', `${HEAD}steps:\n  - fault: heal\n    on: [1]\n`, ['4:5: fault heal takes no on: (it heals the whole network)']],
  [
    'create-in-sync after the legs were written',
    `${HEAD}steps:\n  - diverge-legs: {regions: all}\n  - mirror: create-in-sync\n`,
    ['4:5: "mirror: create-in-sync" must be the first create, before any diverge-legs: only fresh, zeroed legs are in sync'],
  ],
  [
    'create-in-sync after a create',
    `${HEAD}steps:\n  - mirror: create\n    on: [1]\n  - mirror: create-in-sync\n    on: [2]\n`,
    ['5:5: "mirror: create-in-sync" must be the first create, before any diverge-legs: only fresh, zeroed legs are in sync'],
  ],
  ['not a mapping', '- mirror: create\n', ['1:1: the case must be a mapping, got a list']],
  [
    'a workload with no writers that does nothing',
    `${HEAD}steps:\n  - workload: {name: w, writers: 0}\n`,
    ['3:34: a workload with writers: 0 needs status-loop or readers: it would do nothing'],
  ],
];

t.test('malformed cases report every problem at its line and column', async (t) => {
  t.ok(malformed.length >= 15);
  for (const [title, source, errors] of malformed) {
    const result = validateCase(source, 'c.yaml');
    t.same(result.ok ? [] : result.errors, errors.map((e) => `c.yaml:${e}`), title);
  }
});

t.test('all problems in a file are reported, in file order', async (t) => {
  const source = `nmae: x\ntopology:\n  nodes: 2\n  legs: 5\nsteps:\n  - mirror: destroy\n  - fault: crash\n    on: [3]\n`;
  const result = validateCase(source, 'c.yaml');
  t.same(result.ok ? [] : result.errors, [
    'c.yaml:1:1: unknown key "nmae" in the case (did you mean "name"?)',
    'c.yaml:1:1: missing required key "name"',
    'c.yaml:4:9: topology.legs must be from 2 to 4, got 5',
    'c.yaml:6:13: unknown mirror operation "destroy"; expected one of create, create-in-sync, remove, suspend, resume, reload, load-invalid',
    'c.yaml:8:10: node 3 does not exist: topology has nodes 1..2',
  ]);
});

t.test('a minimal case gets its defaults', async (t) => {
  const result = validateCase('name: tiny\nsteps:\n  - mirror: create\n  - workload:\n  - wait: {until: workloads done}\n  - check: no-hang\n', 'tiny.yaml');
  if (!result.ok) return t.fail(result.errors.join('\n'));
  const expected: Case = {
    file: 'tiny.yaml',
    name: 'tiny',
    description: '',
    tags: [],
    topology: { ...TOPOLOGY_DEFAULTS },
    notApplicable: {},
    expectKernelMessages: [],
    steps: [
      { kind: 'mirror', line: 3, afterMs: 0, timeoutMs: 60_000, op: 'create' },
      {
        kind: 'workload',
        line: 4,
        afterMs: 0,
        timeoutMs: 60_000,
        workload: { name: 'w2', writers: 1, depth: 1, blockSize: 4096, regions: { kind: 'own' }, durationMs: 10_000, readers: false, statusLoop: false, mirror: 0 },
      },
      { kind: 'wait', line: 5, afterMs: 0, timeoutMs: 300_000, wait: { kind: 'until', condition: { kind: 'workloads-done' } } },
      { kind: 'check', line: 6, afterMs: 0, timeoutMs: 300_000, checks: ['no-hang'] },
    ],
  };
  t.same(result.case, expected);
  t.same(result.case.topology, {
    nodes: 3,
    legs: 2,
    legSize: 64 * 2 ** 20,
    logSize: 2 ** 20,
    regionSize: 512 * 2 ** 10,
    logType: 'clustered-disk',
    mirrors: 1,
    logRetryTimeoutMs: 15_000,
    integratedFlush: false,
    logDevice: 'path',
    blockOnError: false,
  });
});

t.test('steps carry their parameters in runner units', async (t) => {
  const source = `name: full
seed: 7
known-failure: {bugs: [6], intermittent: true}
topology: {nodes: 4, legs: 3, leg-size: 32MiB, region-size: 256KiB, log-size: 2MiB, mirrors: 2, log-retry-timeout: 3s}
expect-kernel-messages:
  - {pattern: 'raid1: .*failed', reason: leg failed on purpose}
schedule:
  kind: random
  duration: 2m
  faults: [crash, {kind: net-delay, delay: 100ms, on: [1, 2]}]
steps:
  - fault: {kind: partition, groups: [[1, 2], [3, 4]]}
    after: 1.5s
    timeout: 90
  - fault: {kind: slow-leg, leg: 2, delay: 200ms, mirror: 1}
  - fault: {kind: net-loss, percent: 12.5}
    on: 4
  - workload: {name: hot, writers: 2, depth: 8, block-size: 8KiB, regions: [0, 5, 127], count: 100, readers: true, mirror: 1}
  - wait: {seconds: 2.5}
  - wait: {sync: complete}
    on: [1, 2]
  - schedule: run
`;
  const result = validateCase(source, 'full.yaml');
  if (!result.ok) return t.fail(result.errors.join('\n'));
  const c = result.case;
  t.equal(c.seed, 7);
  t.same(c.knownFailure, { bugs: [6], intermittent: true });
  t.same(c.topology, { nodes: 4, legs: 3, legSize: 32 * 2 ** 20, logSize: 2 * 2 ** 20, regionSize: 256 * 2 ** 10, logType: 'clustered-disk', mirrors: 2, logRetryTimeoutMs: 3000, integratedFlush: false, logDevice: 'path', blockOnError: false });
  t.same(c.expectKernelMessages, [{ pattern: 'raid1: .*failed', reason: 'leg failed on purpose' }]);
  t.same(c.schedule, {
    kind: 'random',
    durationMs: 120_000,
    intervalMs: 5_000,
    holdMs: 5_000,
    faults: [{ kind: 'crash' }, { kind: 'net-delay', delayMs: 100, on: [1, 2] }],
  });
  t.same(
    c.steps.map((s) => ({ ...s, line: undefined })),
    [
      { kind: 'fault', afterMs: 1500, timeoutMs: 90_000, fault: { kind: 'partition', groups: [[1, 2], [3, 4]] } },
      { kind: 'fault', afterMs: 0, timeoutMs: 60_000, fault: { kind: 'slow-leg', leg: 2, delayMs: 200, mirror: 1 } },
      { kind: 'fault', on: [4], afterMs: 0, timeoutMs: 60_000, fault: { kind: 'net-loss', percent: 12.5 } },
      {
        kind: 'workload',
        afterMs: 0,
        timeoutMs: 60_000,
        workload: { name: 'hot', writers: 2, depth: 8, blockSize: 8192, regions: { kind: 'list', regions: [0, 5, 127] }, count: 100, readers: true, statusLoop: false, mirror: 1 },
      },
      { kind: 'wait', afterMs: 0, timeoutMs: 300_000, wait: { kind: 'sleep', ms: 2500 } },
      { kind: 'wait', on: [1, 2], afterMs: 0, timeoutMs: 300_000, wait: { kind: 'sync' } },
      { kind: 'schedule', afterMs: 0, timeoutMs: 60_000 },
    ].map((s) => ({ ...s, line: undefined })),
  );
  t.same(
    c.steps.map((s) => s.line),
    [12, 15, 16, 18, 19, 20, 22],
  );
});

t.test('a known failure names bugs of the catalogue, and may name the regions their findings are in', async (t) => {
  const r = validateCase(`${HEAD}known-failure:\n  bugs: [9, 11]\n  regions: [5]\n${STEPS}`, 'c.yaml');
  t.ok(r.ok, r.ok ? '' : r.errors.join('\n'));
  if (r.ok) t.same(r.case.knownFailure, { bugs: [9, 11], regions: [5] });
});

t.test('--nodes sizes every case as it loads: a step naming a node the smaller cluster lacks is an error', async (t) => {
  const source = 'name: c\nsteps:\n  - mirror: create\n  - fault: crash\n    on: [3]\n  - check: no-hang\n';
  const smaller = validateCase(source, 'c.yaml', { nodes: 2 });
  t.same(smaller.ok ? [] : smaller.errors, ['c.yaml:5:10: node 3 does not exist: topology has nodes 1..2']);
  const larger = validateCase(source, 'c.yaml', { nodes: 5 });
  t.equal(larger.ok && larger.case.topology.nodes, 5);
  const plain = validateCase(source, 'c.yaml');
  t.equal(plain.ok && plain.case.topology.nodes, 3);
});

t.test('topology names the log device by number and adds block_on_error', async (t) => {
  const ok = validateCase('name: x\ntopology: {log-device: devnum, block-on-error: true}\nsteps:\n  - mirror: create\n', 'x.yaml');
  if (!ok.ok) return t.fail(ok.errors.join('\n'));
  t.equal(ok.case.topology.logDevice, 'devnum');
  t.equal(ok.case.topology.blockOnError, true);
  const core = validateCase('name: x\ntopology: {log-type: clustered-core, log-device: devnum}\nsteps:\n  - mirror: create\n', 'x.yaml');
  t.notOk(core.ok);
  if (!core.ok) t.match(core.errors.join('\n'), /x\.yaml:2:.*log-device applies only to log-type clustered-disk/);
  const bad = validateCase('name: x\ntopology: {log-device: uuid}\nsteps:\n  - mirror: create\n', 'x.yaml');
  t.notOk(bad.ok);
  if (!bad.ok) t.match(bad.errors.join('\n'), /topology\.log-device/);
});

t.test('invalid-tables-refused is listed only after a mirror: load-invalid step', async (t) => {
  const bad = validateCase('name: x\nsteps:\n  - mirror: create\n  - check: [invalid-tables-refused]\n', 'x.yaml');
  t.notOk(bad.ok);
  if (!bad.ok) t.match(bad.errors.join('\n'), /x\.yaml:4:.*needs a "mirror: load-invalid" step before it/);
  const good = validateCase('name: x\nsteps:\n  - mirror: create\n  - mirror: load-invalid\n  - check: [invalid-tables-refused]\n', 'x.yaml');
  t.ok(good.ok, good.ok ? '' : good.errors.join('\n'));
});
