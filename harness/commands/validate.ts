import { readFileSync } from 'node:fs';
import { validateCase } from '../case/load.ts';
import { expandSchedule, resolveSeed } from '../case/schedule.ts';
import { findCaseFiles } from '../case/select.ts';
import { EXIT, InputError } from '../base/errors.ts';
import { intOption, defineCommand } from './command.ts';

export default defineCommand({
  name: 'validate',
  summary: 'check case files without booting anything',
  help: `usage: clogtest validate [OPTIONS] CASE_OR_DIR...

Validates each case file (a directory stands for the *.yaml files in it): keys, types,
node ids, sizes, durations, steps, faults and checks. Prints "ok FILE" for each valid
case on stdout and every problem of an invalid one on stderr as FILE:LINE:COL: MESSAGE.

Options:
  --expand      also print each valid case as the runner sees it, one JSON line, with
                defaults filled in and a random schedule drawn (its seed printed)
  --seed S      seed for --expand (default: the case's seed, else a fresh one)

Exit 0 when every case is valid, 2 otherwise.`,
  options: { expand: { type: 'boolean' }, seed: { type: 'string' } },
  allowPositionals: true,
  async run(values, positionals) {
    if (positionals.length === 0) throw new InputError('validate: give at least one case file or directory (see `clogtest validate --help`)');
    const cliSeed = values.seed === undefined ? undefined : intOption('seed', values.seed, 0, 0, 2 ** 32 - 1);
    let invalid = 0;
    const files = findCaseFiles(positionals);
    for (const file of files) {
      let text: string;
      try {
        text = readFileSync(file, 'utf8');
      } catch (err) {
        process.stderr.write(`${file}: cannot read: ${(err as Error).message}\n`);
        invalid++;
        continue;
      }
      const result = validateCase(text, file);
      if (!result.ok) {
        process.stderr.write(`${result.errors.join('\n')}\n`);
        invalid++;
        continue;
      }
      process.stdout.write(`ok ${file}\n`);
      if (values.expand) {
        const { seed, from } = resolveSeed(result.case.seed, cliSeed);
        const expanded = expandSchedule(result.case, seed);
        process.stdout.write(`${JSON.stringify({ ...expanded, seed, seedFrom: from })}\n`);
      }
    }
    if (invalid) process.stderr.write(`clogtest validate: ${invalid} of ${files.length} case files invalid\n`);
    return invalid ? EXIT.usage : EXIT.ok;
  },
});
