import t from 'tap';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CHECKS } from '../../harness/case/schema.ts';
import { CHECK_REGISTRY } from '../../harness/checks/index.ts';
import { emptyObservations, type FrozenSample } from '../../harness/checks/observe.ts';
import { History } from '../../harness/history.ts';
import type { CaseContext } from '../../harness/runner/context.ts';
import { makeImage, makeLog } from '../fixtures/oracle/build.ts';
import { tempDir } from '../temp-dir.ts';

const B = 4096;
const RUN = 7;

t.test('every check name has an entry', async (t) => {
  t.same(Object.keys(CHECK_REGISTRY).sort(), [...CHECKS].sort());
});

/** The host-side part of a case: a case directory with writer logs and history, no cluster. */
function fakeCase(events: object[], extra: Partial<CaseContext> = {}): CaseContext {
  const dir = tempDir(t, 'clogtest-checks-');
  mkdirSync(join(dir, 'writes'));
  writeFileSync(join(dir, 'writes', 'w-node1-w0.jsonl'), events.map((e) => JSON.stringify(e)).join('\n') + '\n');
  const history = new History(join(dir, 'history.jsonl'));
  history.append('info', { what: 'case start' });
  return {
    dir,
    runId: RUN,
    seed: RUN,
    history,
    case: { topology: { regionSize: 4 * B }, expectKernelMessages: [] },
    // Clocks read as in step to the nanosecond, so the checks order events exactly.
    cluster: { nodes: [{ id: 1 }, { id: 2 }], clocks: [{ node: 1, offsetNs: 0, errorNs: 0, at: 0, batch: 'boot' }], readClocks: async () => [] },
    mirrors: [{ index: 0, name: 'clog0', sectors: (16 * B) / 512, regions: 4, legs: [], log: { dm: 'clog0-log', serial: 'log' } }],
    workloads: [{ name: 'w', workload: { mirror: 0, blockSize: B }, procs: [] }],
    observed: emptyObservations(),
    down: new Set(),
    paused: new Set(),
    ...extra,
  } as unknown as CaseContext;
}

const id = (node: number, seq: number, block: number) => ({ run: RUN, node, seq, block, offset: block * B });

t.test('no-stale-reads judges the readers\' logs', async (t) => {
  const write = { op: 'write', t: 200, start: 100, ...id(1, 5, 3) };
  const stale = { op: 'read', t: 400, start: 300, run: RUN, node: 1, block: 3, offset: 3 * B, kind: 'empty', found: null };
  const v = await CHECK_REGISTRY['no-stale-reads'](fakeCase([write, stale]));
  t.equal(v.valid, false);
  t.match(v.findings, [{ kind: 'stale', block: 3, region: 0 }]);
  const fresh = { ...stale, kind: 'valid', found: { node: 1, seq: 5, run: RUN } };
  t.equal((await CHECK_REGISTRY['no-stale-reads'](fakeCase([write, fresh]))).valid, true);
  t.match(await CHECK_REGISTRY['no-stale-reads'](fakeCase([write])), { valid: true, detail: /no reads were made/ });
});

t.test('dirty-before-write judges the samples taken while workloads ran', async (t) => {
  const events = [{ op: 'write-start', t: 100, ...id(1, 44, 9) }];
  const ctx = fakeCase(events);
  const dir = join(ctx.dir, 'samples');
  mkdirSync(dir);
  const sample = (n: number, clean: boolean, legs: Buffer[]): FrozenSample => {
    writeFileSync(join(dir, `s${n}-log.img`), makeLog(4, () => clean));
    legs.forEach((l, i) => writeFileSync(join(dir, `s${n}-leg${i}.img`), l));
    return { sample: n, mirror: 0, freezeNs: { 1: 150 }, logFile: join(dir, `s${n}-log.img`), legFiles: legs.map((_, i) => ({ label: `clog0/leg${i}`, file: join(dir, `s${n}-leg${i}.img`) })) };
  };
  const landed = makeImage(16, B, [{ block: 9, node: 1, seq: 44, runId: RUN }]);
  const empty = makeImage(16, B, []);
  ctx.observed.samples.push(sample(1, true, [landed, empty]));
  const v = await CHECK_REGISTRY['dirty-before-write'](ctx);
  t.equal(v.valid, false, v.detail);
  t.match(v.findings, [{ kind: 'clean-while-in-flight', region: 2, block: 9 }]);
  ctx.observed.samples.splice(0, 1, sample(2, false, [landed, empty]));
  t.equal((await CHECK_REGISTRY['dirty-before-write'](ctx)).valid, true);
  t.equal((await CHECK_REGISTRY['dirty-before-write'](fakeCase(events))).valid, 'unknown', 'no sample is no verdict');
});

t.test('single-writer: the memberships observed and the fencing in the history', async (t) => {
  const ctx = fakeCase([]);
  ctx.observed.memberships.push({ node: 1, t: 10, members: [1] }, { node: 2, t: 10, members: [2] });
  const v = await CHECK_REGISTRY['single-writer'](ctx);
  t.equal(v.valid, false);
  t.match(v.findings, [{ kind: 'two-servers', nodes: ['node1', 'node2'] }]);
  ctx.history.append('fault', { step: 3, what: 'fault partition', event: 'start' });
  ctx.history.append('fault', { step: 4, node: [1], what: 'fault crash', event: 'start' });
  t.equal((await CHECK_REGISTRY['single-writer'](ctx)).valid, true);
  t.equal((await CHECK_REGISTRY['single-writer'](fakeCase([]))).valid, 'unknown');
});
