import t from 'tap';
import { checkKeptCase, keptCaseDirs } from '../../../harness/commands/check.ts';
import { makeImage, makeLog } from '../../fixtures/oracle/build.ts';
import { writeRecord } from '../../fixtures/record.ts';
import { tempDir } from '../../temp-dir.ts';

const B = 4096;
const RUN = 7;
const STATUS = 'clog0-leg0: 0 128 linear \nclog0: 0 128 mirror 2 253:1 253:2 4/4 1 AA 3 clustered-disk 253:0 A\n';

/** A case directory as `clogtest run --keep` leaves it, with leg1 as given. */
function keptCase(root: string, name: string, leg1: Buffer): string {
  const id = { run: RUN, node: 1, seq: 44, block: 9, offset: 9 * B };
  return writeRecord(root, name, {
    runId: RUN,
    yaml: `name: ${name}\ntopology: {nodes: 2, leg-size: 64KiB, region-size: 16KiB}\nsteps:\n  - mirror: create\n  - workload: {name: w}\n  - check: [clean-implies-equal, no-lost-writes, legs-converge]\n`,
    writes: { 'w-node1-w0.jsonl': { node: 1, events: [{ op: 'write-start', t: 1, ...id }, { op: 'write', t: 2, start: 1, ...id }] } },
    disks: { leg0: makeImage(16, B, [{ block: 9, node: 1, seq: 44, runId: RUN }]), leg1, log: makeLog(4, () => true, { bytes: 1 << 20 }) },
    evidence: [{ point: 'end', ms: 10, live: [1, 2], nodes: { 1: { status: STATUS }, 2: { status: STATUS } } }],
  });
}

const HOST_SIDE = ['clean-implies-equal', 'no-lost-writes', 'legs-converge'];

t.test('a kept passing case: every check judged from the directory holds', async (t) => {
  const root = tempDir(t, 'clogtest-check-');
  const dir = keptCase(root, 'good', makeImage(16, B, [{ block: 9, node: 1, seq: 44, runId: RUN }]));
  const vs = (await checkKeptCase(dir)).filter((v) => HOST_SIDE.includes(v.check));
  t.same(vs.map((v) => [v.check, v.valid]), [['clean-implies-equal', true], ['no-lost-writes', true], ['legs-converge', true]], JSON.stringify(vs.map((v) => v.detail)));
  t.same(keptCaseDirs(root), [dir]);
  t.same(keptCaseDirs(dir), [dir]);
});

t.test('a kept case whose leg lost a write: every host-side check names the block', async (t) => {
  const root = tempDir(t, 'clogtest-check-');
  const vs = (await checkKeptCase(keptCase(root, 'bad', makeImage(16, B, [])))).filter((v) => HOST_SIDE.includes(v.check));
  for (const v of vs) {
    t.equal(v.valid, false, `${v.check}: ${v.detail}`);
    t.match(v.findings, [{ region: 2, block: 9, offset: 9 * B }], v.check);
  }
});

t.test('a directory without kept cases is an input error', async (t) => {
  t.throws(() => keptCaseDirs(tempDir(t, 'clogtest-check-')), /no case directory/);
});
