/**
 * The oracle can fail: on a real 2-node cluster with a synced mirror and a short writer workload, damage the
 * disks from the host the way a broken log would, and the cluster-level checks must say false and name the spot.
 *   - one leg's block overwritten in a region the log marks clean -> clean-implies-equal names region and block;
 *   - an acknowledged write zeroed on every leg -> no-lost-writes names the block.
 * Before the damage the same checks, and the ones fed by observations during the workload, must not say false.
 */
import './guard.ts';
import t from 'tap';
import { copyFileSync, openSync, readFileSync, readSync, writeSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { validateCase } from '../../harness/case/load.ts';
import type { Step } from '../../harness/case/schema.ts';
import { judge } from '../../harness/judge/index.ts';
import { Cluster } from '../../harness/guest/cluster/cluster.ts';
import { gatherEvidence } from '../../harness/run/evidence/gather.ts';
import { startObserving } from '../../harness/run/evidence/observe.ts';
import { History } from '../../harness/record/history.ts';
import { ensureImage } from '../../harness/stack/image/index.ts';
import { ensureKernel } from '../../harness/stack/kernel/index.ts';
import { createMirror, waitMirrors } from '../../harness/guest/mirror/ops.ts';
import { sharedDisks } from '../../harness/guest/mirror/table.ts';
import { decodeDiskLog } from '../../harness/oracle/disk-log.ts';
import { inSync } from '../../harness/oracle/dm-status.ts';
import { run as runTool } from '../../harness/base/proc.ts';
import { events } from '../../harness/record/events.ts';
import { stepPoint } from '../../harness/record/layout.ts';
import { CaseRecord } from '../../harness/record/read.ts';
import { newCaseContext } from '../../harness/run/context/case-context.ts';
import { Scope } from '../../harness/base/scope.ts';
import { startWorkload, waitWorkloads } from '../../harness/run/workload/run.ts';
import { tempDir } from '../temp-dir.ts';

t.setTimeout(10 * 60_000);

const CASE = `name: oracle-selftest
topology: {nodes: 2, leg-size: 8MiB}
steps:
  - workload: {name: writes, regions: own, duration: 8s}
`;

function pread(file: string, offset: number, length: number): Buffer {
  const fd = openSync(file, 'r');
  try {
    const buf = Buffer.alloc(length);
    readSync(fd, buf, 0, length, offset);
    return buf;
  } finally {
    closeSync(fd);
  }
}

function pwrite(file: string, offset: number, data: Buffer): void {
  const fd = openSync(file, 'r+');
  try {
    writeSync(fd, data, 0, data.length, offset);
  } finally {
    closeSync(fd);
  }
}

t.test('clean-implies-equal and no-lost-writes catch damage done from the host', async (t) => {
  const v = validateCase(CASE, 'oracle-selftest.yaml');
  if (!v.ok) throw new Error(v.errors.join('\n'));
  const c = v.case;
  const kernel = await ensureKernel({ kernelImage: process.env.CLOGTEST_KERNEL_IMAGE || undefined });
  const image = await ensureImage();
  const dir = tempDir(t, 'clogtest-selftest-', { keepOnFailure: true });
  const scope = new Scope((l) => t.comment(l));
  const seed = 4242;
  try {
    const cluster = await Cluster.start(
      { name: 'self', nodes: 2, parentDir: dir, sharedDisks: sharedDisks(c.topology), bzImage: kernel.bzImage, rootImage: image.rootImage, sshKey: image.sshKey, seed, say: (l) => t.comment(l) },
      scope,
    );
    const history = new History(join(dir, 'history.jsonl'));
    events.caseStart(history, { case: c, seed, runId: seed });
    events.clocks(history, { readings: cluster.clocks });
    const ctx = newCaseContext({ case: c, seed, runId: seed, cluster, dir, history, say: (l) => t.comment(l), coverage: [] });
    /** The evidence at a new point, judged from the case directory as a run would. */
    let points = 0;
    const judgeNow = async (names: Parameters<typeof judge>[2]) => {
      const point = stepPoint(++points);
      await gatherEvidence(ctx, point, { stayFrozen: false });
      return judge(CaseRecord.read(dir), point, names);
    };
    const mirrors = ctx.mirrors;
    const m = mirrors[0]!;
    // Recorded as the runner records a `mirror: create` step: the disk checks judge only after one.
    const create = { step: 0, kind: 'mirror', what: 'mirror: create', op: 'create' } as const;
    events.step(history, { ...create, event: 'start' });
    for (const n of cluster.nodes) await createMirror(n, c.topology, m, ctx.uuids[0]!, 60_000);
    events.step(history, { ...create, event: 'done' });
    ctx.mirrorsLoaded = true;
    await waitMirrors(cluster.nodes, mirrors, 'initial sync', inSync, 120_000);

    // The decoder on the real thing: the log device of a freshly synced mirror, through the CLI.
    const logFile = cluster.disks.find((d) => d.serial === m.log!.serial)!.file;
    const logCopy = join(dir, 'log-after-sync.img');
    await cluster.freeze();
    try {
      copyFileSync(logFile, logCopy);
    } finally {
      await cluster.thaw();
    }
    const decoded = await runTool('./clogtest', ['decode-log', logCopy, '--regions', String(m.regions)], { allowFailure: true, timeoutMs: 60_000 });
    t.equal(decoded.exitCode, 0, `decode-log exits 0: ${decoded.stderr}`);
    t.match(decoded.stdout, new RegExp(`^regions: +${m.regions}$`, 'm'), `decode-log: ${decoded.stdout}`);
    t.match(decoded.stdout, /^dirty: +0$/m);

    const stopObserving = startObserving(ctx);
    const run = await startWorkload(ctx, c.steps[0] as Extract<Step, { kind: 'workload' }>);
    await waitWorkloads([run], 60_000);
    await stopObserving();
    await waitMirrors(cluster.nodes, mirrors, 'sync after the workload', inSync, 120_000);

    for (const v of await judgeNow(['clean-implies-equal', 'no-lost-writes', 'dirty-before-write', 'single-writer', 'nodes-agree', 'kernel-clean'])) {
      t.not(v.valid, false, `${v.check} before any damage: ${v.detail}`);
    }
    const samples = CaseRecord.read(dir).samples(stepPoint(points));
    t.ok(samples.length > 0, `${samples.length} frozen samples taken during the workload`);

    const blockBytes = run.workload.blockSize;
    const regionBytes = c.topology.regionSize;
    const acked = CaseRecord.read(dir).writerEvents(stepPoint(points), 0).filter((e) => e.op === 'write');
    t.ok(acked.length > 0, `${acked.length} acknowledged writes`);
    const [leg0, leg1] = m.legs.map((l) => cluster.disks.find((d) => d.serial === l.serial)!.file);

    // Damage a block in a region the log, read while frozen, marks clean.
    await cluster.freeze();
    let target: { block: number; offset: number; region: number };
    try {
      const log = decodeDiskLog(readFileSync(logFile));
      const w = acked.find((e) => log.clean(Math.floor(e.offset / regionBytes)));
      if (!w) throw new Error('no acknowledged write in a clean region');
      target = { block: w.block, offset: w.offset, region: Math.floor(w.offset / regionBytes) };
      pwrite(leg1!, target.offset, Buffer.alloc(blockBytes, 0xa5));
    } finally {
      await cluster.thaw();
    }
    const cie = (await judgeNow(['clean-implies-equal']))[0]!;
    t.equal(cie.valid, false, cie.detail);
    t.match(cie.findings, [{ kind: 'legs-differ', region: target.region, block: target.block, offset: target.offset }]);
    t.match(cie.detail, `region ${target.region} `);
    t.match(cie.detail, `block ${target.block} (offset ${target.offset})`);

    // Undo it, then make the same acknowledged write vanish from every leg.
    await cluster.freeze();
    try {
      pwrite(leg1!, target.offset, pread(leg0!, target.offset, blockBytes));
      for (const leg of [leg0!, leg1!]) pwrite(leg, target.offset, Buffer.alloc(blockBytes));
    } finally {
      await cluster.thaw();
    }
    const nlw = (await judgeNow(['no-lost-writes']))[0]!;
    t.equal(nlw.valid, false, nlw.detail);
    t.match(nlw.findings, [{ kind: 'lost', block: target.block, offset: target.offset }]);
    t.match(nlw.detail, `block ${target.block} (offset ${target.offset})`);
    t.equal((await judgeNow(['clean-implies-equal']))[0]!.valid, true, 'both legs zeroed alike: equal again');
  } finally {
    const failures = await scope.close();
    t.same(failures, [], 'tear-down');
  }
});
