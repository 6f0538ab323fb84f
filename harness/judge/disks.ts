/** clean-implies-equal and legs-converge: the log device and the legs, at the point and in every sample. */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { checkCleanImpliesEqual } from '../oracle/checks/clean-implies-equal.ts';
import { checkLegsConverge } from '../oracle/checks/legs-converge.ts';
import { mergeVerdicts, notApplicable, type Verdict } from '../oracle/verdict.ts';
import type { MirrorLayout } from '../guest/mirror/table.ts';
import type { Point } from '../record/layout.ts';
import type { CaseRecord } from '../record/read.ts';

const CORE = 'clustered-core: no log device';
export const NOT_CREATED = 'no mirror was created before this point: its log device holds nothing yet';

function legInputs(rec: CaseRecord, point: Point, m: MirrorLayout) {
  return m.legs.map((l, i) => ({ source: { path: rec.disk(point, l.serial) }, label: `${m.name}/leg${i}` }));
}

/**
 * At the point (every guest frozen, or gone) and in every sample taken during I/O: a region the log device
 * calls clean holds the same bytes on every leg. A sample keeps only the blocks where the legs differed, so
 * comparing its sparse leg images is comparing the legs.
 */
export async function cleanImpliesEqual(rec: CaseRecord, point: Point): Promise<Verdict> {
  const invariant = 'clean-implies-equal';
  const withLog = rec.mirrors.filter((m) => m.log);
  if (withLog.length === 0) return notApplicable(invariant, CORE);
  if (!rec.mirrorCreated(point)) return notApplicable(invariant, NOT_CREATED);
  const t = rec.case.topology;
  const verdicts: Verdict[] = [];
  for (const m of withLog) {
    const common = { regionBytes: t.regionSize, blockBytes: rec.blockBytes(m.index), mirrorBytes: m.sectors * 512, runId: rec.runId };
    verdicts.push(await checkCleanImpliesEqual({ ...common, log: await readFile(rec.disk(point, m.log!.serial)), legs: legInputs(rec, point, m), where: `${m.name} at ${point}` }));
    for (const s of rec.samples(point).filter((x) => x.mirror === m.index && x.log)) {
      verdicts.push(
        await checkCleanImpliesEqual({
          ...common,
          log: await readFile(join(rec.dir, s.log!)),
          legs: s.legs.map((l) => ({ source: { path: join(rec.dir, l.file) }, label: l.label })),
          where: `${m.name} sample ${s.sample}`,
        }),
      );
    }
  }
  const merged = mergeVerdicts(invariant, verdicts);
  const samples = rec.samples(point).filter((s) => s.log).length;
  return { ...merged, judged: [...merged.judged, { n: samples, what: 'samples' }], detail: merged.valid === true ? `${merged.detail.split('\n')[0]} (and ${samples} samples)` : merged.detail };
}

/**
 * Once every live node reports every mirror in sync: the legs are identical, and after a case with no
 * disturbing fault the log device marks every region clean. A node that leaves with regions marked leaves
 * them dirty in the server's log (cmirrord keeps a departed node's marks), which is safe: only an
 * undisturbed case must end all clean.
 */
export async function legsConverge(rec: CaseRecord, point: Point): Promise<Verdict> {
  const t = rec.case.topology;
  const live = rec.evidence(point).live;
  if (!rec.mirrorCreated(point)) return notApplicable('legs-converge', NOT_CREATED);
  const strict = !rec.disturbed(point);
  const verdicts: Verdict[] = [];
  for (const m of rec.mirrors) {
    const statuses = live.flatMap((node) => {
      const text = rec.nodeFile(point, 'status', node);
      return text === undefined ? [] : [{ node, text: text.split('\n').filter((l) => l.startsWith(`${m.name}:`)).join('\n') }];
    });
    verdicts.push(
      await checkLegsConverge({
        statuses,
        mirror: m.name,
        legs: legInputs(rec, point, m),
        regionBytes: t.regionSize,
        blockBytes: rec.blockBytes(m.index),
        mirrorBytes: m.sectors * 512,
        runId: rec.runId,
        ...(m.log && strict ? { log: await readFile(rec.disk(point, m.log.serial)) } : {}),
      }),
    );
  }
  return mergeVerdicts('legs-converge', verdicts);
}
