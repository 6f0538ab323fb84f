import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { CHECKS } from '../case/schema.ts';
import { judge, verdictLine, type NamedVerdict } from '../judge/index.ts';
import { EXIT, InputError } from '../base/errors.ts';
import { entriesOf, type CheckFields, type EvidenceFields } from '../record/events.ts';
import { HISTORY_FILE } from '../record/layout.ts';
import { CaseRecord, caseDirsIn } from '../record/read.ts';
import { failsRun } from '../case/outcome.ts';
import { caseResult, type CaseResult } from '../judge/result.ts';
import { defineCommand } from './command.ts';

/**
 * Every point a kept case recorded evidence at, with the checks judged there: a check step's own checks,
 * every check at the end. The same judge() the run used, on the same files.
 */
export async function checkKeptCase(dir: string): Promise<NamedVerdict[]> {
  return judgeRecord(CaseRecord.read(dir));
}

async function judgeRecord(rec: CaseRecord): Promise<NamedVerdict[]> {
  const dir = rec.dir;
  const points = entriesOf<EvidenceFields>(rec.entries, 'evidence').map((e) => e.point);
  if (points.length === 0) throw new InputError(`check: ${dir} recorded no evidence (the case ended before its checks ran)`);
  const out: NamedVerdict[] = [];
  for (const point of points) {
    const judgedThere = entriesOf<CheckFields>(rec.entries, 'check').filter((c) => c.point === point).map((c) => c.check);
    out.push(...(await judge(rec, point, point === 'end' || judgedThere.length === 0 ? CHECKS : judgedThere)));
  }
  return out;
}

/** The outcome the kept case's verdicts come to, weighed against the known failure the run had in force. */
export function keptOutcome(rec: CaseRecord, verdicts: NamedVerdict[]): CaseResult {
  const kf = rec.knownFailureInForce();
  const infra = rec.entries.find((e) => e.type === 'error' && e.what === 'infrastructure');
  const outOfModel = verdicts.some((v) => v.valid === false) ? rec.outOfModel() : undefined;
  return caseResult({
    name: rec.case.name,
    file: rec.case.file,
    tags: rec.case.tags,
    iteration: 1,
    seed: rec.seed,
    dir: rec.dir,
    durationMs: 0,
    verdicts,
    ...(kf ? { knownFailure: kf } : {}),
    explainContext: { faultedNodes: rec.faultedNodes() },
    ...(infra ? { infra: String(infra.error) } : {}),
    ...(outOfModel ? { outOfModel } : {}),
    lastEvents: [],
  });
}

/** What the run said of each check at each point, to show where `clogtest check` differs (it should not). */
export function recordedVerdicts(rec: CaseRecord): Map<string, CheckFields> {
  return new Map(entriesOf<CheckFields>(rec.entries, 'check').map((c) => [`${c.point}/${c.check}`, c]));
}

/** RUN_DIR itself when it is a case directory, else the case directories in it. */
export function keptCaseDirs(runDir: string): string[] {
  if (existsSync(join(runDir, HISTORY_FILE))) return [runDir];
  if (!existsSync(runDir) || !statSync(runDir).isDirectory()) throw new InputError(`check: ${runDir} is not a directory`);
  const dirs = caseDirsIn(runDir);
  if (dirs.length === 0) throw new InputError(`check: no case directory (with ${HISTORY_FILE}) in ${runDir}`);
  return dirs;
}

export default defineCommand({
  name: 'check',
  summary: 'judge a kept case directory again, from what it recorded, as the run did',
  help: `usage: clogtest check RUN_DIR

RUN_DIR is a run directory (runs/<stamp>/) or one case directory in it, kept with
\`clogtest run --keep\` (failing cases are always kept). Every check is judged again, at
every point the case recorded evidence (its check steps and its end), from the files the
run left: history.jsonl, the writers' logs, the samples taken during I/O, each node's
status, cmirrord dump and kernel log, and the shared disks. It is the code path the run
itself judged with, so the verdicts are the same; a verdict that differs from the one the
run recorded is marked "(the run said ...)".

Each case ends with its outcome, as the run decides it: a failure is its known failure only when
every finding is one of its known bugs' (\`not the known failure: ...\` lists the others).

Exit 0 when every case passed or failed as known, 1 when one failed otherwise or was inconclusive,
2 when RUN_DIR holds no kept case.`,
  options: {},
  allowPositionals: true,
  async run(_values, positionals) {
    if (positionals.length !== 1) throw new InputError('check: give exactly one RUN_DIR (see `clogtest check --help`)');
    let failed = false;
    for (const dir of keptCaseDirs(positionals[0]!)) {
      process.stdout.write(`${dir}\n`);
      const rec = CaseRecord.read(dir);
      const before = recordedVerdicts(rec);
      const verdicts = await judgeRecord(rec);
      for (const v of verdicts) {
        const said = before.get(`${v.point}/${v.check}`);
        const differs = said && (said.valid !== v.valid || said.findings !== v.findings.length) ? ` (the run said ${String(said.valid)}, ${said.findings} findings)` : '';
        process.stdout.write(`  ${verdictLine(v)}${differs}\n`);
        if (v.valid === false) process.stdout.write(v.detail.split('\n').slice(1).map((l) => `    ${l}\n`).join(''));
      }
      const r = keptOutcome(rec, verdicts);
      const known = r.known ? ` (${r.known.description}: ${r.known.explained.length} findings explained, ${r.known.unexplained.length} not)` : '';
      process.stdout.write(`  outcome: ${r.outcome}${known}\n`);
      for (const f of r.known?.unexplained ?? []) process.stdout.write(`    not the known failure: ${f.check}${f.point === 'end' ? '' : ` at ${f.point}`}: ${f.message}\n`);
      failed ||= failsRun(r.outcome);
    }
    return failed ? EXIT.checkFailed : EXIT.ok;
  },
});

