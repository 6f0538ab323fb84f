import t from 'tap';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkKeptCase, keptCaseDirs } from '../../harness/commands/check.ts';
import { makeImage, makeLog } from '../fixtures/oracle/build.ts';
import { tempDir } from '../temp-dir.ts';

const B = 4096;
const RUN = 7;
const topology = { nodes: 2, legs: 2, legSize: 16 * B, logSize: 1 << 20, regionSize: 4 * B, logType: 'clustered-disk', mirrors: 1 };

/** A case directory as `clogtest run --keep` leaves it, with leg1 as given. */
function keptCase(root: string, name: string, leg1: Buffer): string {
  const dir = join(root, name);
  const disks = join(dir, '20261125-000000Z-clog', 'disks');
  mkdirSync(disks, { recursive: true });
  mkdirSync(join(dir, 'writes'));
  const start = { t: '', ms: 0, type: 'info', what: 'case start', case: name, seed: RUN, topology, workloads: [{ mirror: 0, blockSize: B }] };
  writeFileSync(join(dir, 'history.jsonl'), `${JSON.stringify(start)}\n`);
  writeFileSync(join(dir, '20261125-000000Z-clog', 'cluster.json'), JSON.stringify({ disks: ['leg0', 'leg1', 'log'].map((serial) => ({ serial, file: '/moved/away' })) }));
  writeFileSync(join(disks, 'leg0.img'), makeImage(16, B, [{ block: 9, node: 1, seq: 44, runId: RUN }]));
  writeFileSync(join(disks, 'leg1.img'), leg1);
  writeFileSync(join(disks, 'log.img'), makeLog(4, () => true, { bytes: 1 << 20 }));
  for (const node of [1, 2]) {
    writeFileSync(join(dir, `node${node}-dmsetup-status.txt`), `clog0-leg0: 0 128 linear \nclog0: 0 128 mirror 2 253:1 253:2 4/4 1 AA 3 clustered-disk 253:0 A\n`);
  }
  const id = { run: RUN, node: 1, seq: 44, block: 9, offset: 9 * B };
  writeFileSync(join(dir, 'writes', 'w-node1-w0.jsonl'), `${JSON.stringify({ op: 'write-start', t: 1, ...id })}\n${JSON.stringify({ op: 'write', t: 2, start: 1, ...id })}\n`);
  return dir;
}

t.test('a kept passing case: every host-side check holds', async (t) => {
  const root = tempDir(t, 'clogtest-check-');
  const dir = keptCase(root, 'good', makeImage(16, B, [{ block: 9, node: 1, seq: 44, runId: RUN }]));
  const vs = await checkKeptCase(dir);
  t.same(vs.map((v) => [v.check, v.verdict.valid]), [['clean-implies-equal', true], ['no-lost-writes', true], ['legs-converge', true]], JSON.stringify(vs.map((v) => v.verdict.detail)));
  t.same(keptCaseDirs(root), [dir]);
  t.same(keptCaseDirs(dir), [dir]);
});

t.test('a kept case whose leg lost a write: every host-side check names the block', async (t) => {
  const root = tempDir(t, 'clogtest-check-');
  const vs = await checkKeptCase(keptCase(root, 'bad', makeImage(16, B, [])));
  for (const { check, verdict } of vs) {
    t.equal(verdict.valid, false, `${check}: ${verdict.detail}`);
    t.match(verdict.findings, [{ region: 2, block: 9, offset: 9 * B }], check);
  }
});

t.test('a directory without kept cases is an input error', async (t) => {
  t.throws(() => keptCaseDirs(tempDir(t, 'clogtest-check-')), /no case directory/);
});
