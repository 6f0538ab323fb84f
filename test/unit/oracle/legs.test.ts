import t from 'tap';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { compareLegs, describeRegionDiff } from '../../../harness/oracle/legs.ts';
import { makeImage } from '../../fixtures/oracle/build.ts';
import { tempDir } from '../../temp-dir.ts';

const B = 4096;
const REGION = 8 * B;
const run = 7;

t.test('identical legs have no differing regions', async (t) => {
  const img = makeImage(32, B, [{ block: 3, node: 1, seq: 1, runId: run }]);
  const cmp = await compareLegs([{ source: img }, { source: Buffer.from(img) }], { regionBytes: REGION, blockBytes: B });
  t.same(cmp.diffs, []);
  t.equal(cmp.regions, 4);
  t.same(cmp.compared, [0, 1, 2, 3]);
});

t.test('differing blocks are located and decoded per leg, read from files at an offset', async (t) => {
  const dir = tempDir(t, 'legs-');
  const leg0 = makeImage(32, B, [{ block: 17, node: 2, seq: 44, runId: run }]);
  const leg1 = makeImage(32, B, [
    { block: 17, node: 3, seq: 45, runId: run },
    { block: 19, node: 3, seq: 46, runId: run },
  ]);
  // leg1 sits 1 MiB into its file, as a leg on a partitioned disk would.
  await writeFile(join(dir, 'leg0'), leg0);
  await writeFile(join(dir, 'leg1'), Buffer.concat([Buffer.alloc(1 << 20, 0xee), leg1]));
  const cmp = await compareLegs(
    [{ source: { path: join(dir, 'leg0') } }, { source: { path: join(dir, 'leg1'), offset: 1 << 20 }, label: 'legB' }],
    { regionBytes: REGION, blockBytes: B },
  );
  t.equal(cmp.diffs.length, 1);
  const d = cmp.diffs[0]!;
  t.match(d, { region: 2, start: 65536, end: 98303 });
  t.same(d.blocks.map((b) => [b.block, b.offset]), [[17, 69632], [19, 77824]]);
  t.same(d.blocks[0]!.legs.map((l) => [l.kind, l.header?.node, l.header?.seq]), [['valid', 2, 44], ['valid', 3, 45]]);
  t.equal(
    describeRegionDiff(d, cmp.labels),
    'region 2 (bytes 65536-98303): legs differ at 2 blocks: block 17 (offset 69632): leg0 node2 seq 44, legB node3 seq 45; ' +
      'block 19 (offset 77824): leg0 empty, legB node3 seq 46',
  );
});

t.test('one-block difference reads as the lead expects', async (t) => {
  const leg0 = makeImage(4, B, [{ block: 2, node: 2, seq: 44, runId: run }]);
  const leg1 = makeImage(4, B, [{ block: 2, node: 3, seq: 45, runId: run }]);
  const cmp = await compareLegs([{ source: leg0 }, { source: leg1 }], { regionBytes: 2 * B, blockBytes: B });
  t.equal(
    describeRegionDiff(cmp.diffs[0]!, cmp.labels),
    'region 1 (bytes 8192-16383): legs differ at block 2 (offset 8192): leg0 node2 seq 44, leg1 node3 seq 45',
  );
});

t.test('only the selected regions are read; a partial last region counts', async (t) => {
  const leg0 = makeImage(10, B, [{ block: 9, node: 1, seq: 1, runId: run }]);
  const leg1 = makeImage(10, B, [{ block: 1, node: 1, seq: 2, runId: run }]);
  const all = await compareLegs([{ source: leg0 }, { source: leg1 }], { regionBytes: 4 * B, blockBytes: B });
  t.same(all.diffs.map((d) => [d.region, d.end]), [[0, 16383], [2, 40959]]);
  const some = await compareLegs([{ source: leg0 }, { source: leg1 }], { regionBytes: 4 * B, blockBytes: B, only: (r) => r !== 0 });
  t.same(some.diffs.map((d) => d.region), [2]);
  t.same(some.compared, [1, 2]);
});

t.test('bad geometry and short legs are errors, not silent passes', async (t) => {
  const img = Buffer.alloc(8 * B);
  await t.rejects(compareLegs([{ source: img }, { source: img }], { regionBytes: B + 512, blockBytes: B }), /not a whole number/);
  await t.rejects(compareLegs([{ source: img }], { regionBytes: B, blockBytes: B }), /at least two legs/);
  await t.rejects(
    compareLegs([{ source: img }, { source: Buffer.alloc(4 * B) }], { regionBytes: B, blockBytes: B, mirrorBytes: 8 * B }),
    /past its end/,
  );
  await t.rejects(compareLegs([{ source: img }, { source: { path: '/nonexistent/leg' } }], { regionBytes: B, blockBytes: B }), /leg1: cannot open/);
});
