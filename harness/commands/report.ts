import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { EXIT, InputError } from '../base/errors.ts';
import { caseDirsIn } from '../record/read.ts';
import { writeReport } from '../report/html.ts';
import { SUMMARY_FILE } from '../report/report-data.ts';
import { progress } from '../base/progress.ts';
import { defineCommand } from './command.ts';

export default defineCommand({
  name: 'report',
  summary: "write a run directory's report.html again, from what the directory holds",
  help: `usage: clogtest report RUN_DIR

Writes RUN_DIR/report.html, the page \`clogtest run\` writes at the end of every run: an index
of every case (verdict, failed checks, time, tags, the command that replays it; filter by
verdict and tag) and, for each case directory kept in RUN_DIR, a timeline on one time axis
(steps; each node's faults as spans, membership changes, samples, hangs and findings), the
latency of every acknowledged write and read, writes per second and regions in sync per node,
the findings, and links to every artifact. It reads RUN_DIR/summary.json when the run wrote
one (older runs: the kept case directories only) and needs no network to open.

Exit 0 when written, 2 when RUN_DIR is not a run directory.`,
  options: {},
  allowPositionals: true,
  async run(_values, positionals) {
    if (positionals.length !== 1) throw new InputError('report: give exactly one RUN_DIR (see `clogtest report --help`)');
    const runDir = positionals[0]!;
    if (!existsSync(runDir) || !statSync(runDir).isDirectory()) throw new InputError(`report: ${runDir} is not a directory`);
    const isRun = existsSync(join(runDir, SUMMARY_FILE)) || caseDirsIn(runDir).length > 0;
    if (!isRun) throw new InputError(`report: ${runDir} holds neither ${SUMMARY_FILE} nor a case directory (a run directory is runs/<stamp>/)`);
    progress(`report: ${writeReport(runDir)}`);
    return EXIT.ok;
  },
});
