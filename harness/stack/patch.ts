/**
 * Applying patches to a scratch tree and explaining failures in terms a developer
 * acts on: which patch, which file, which hunk.
 */
import { InputError } from '../base/errors.ts';
import { run } from '../base/proc.ts';

export interface PatchRef {
  /** Path to the patch file. */
  file: string;
  /** Where the patch was named (series file and line, or the command-line option). */
  origin: string;
  strip: number;
}

/** Turns `patch` output into one plain line: the rejected files and hunks, or why the input is no patch. */
export function describePatchFailure(output: string): string {
  const rejects: string[] = [];
  let current = '';
  for (const line of output.split('\n')) {
    const file = /^(?:patching|checking) file '?([^']+?)'?$/.exec(line.trim());
    if (file) current = file[1];
    const hunk = /^Hunk #(\d+) FAILED at (\d+)/.exec(line.trim());
    if (hunk) rejects.push(`${current} hunk #${hunk[1]} (at line ${hunk[2]})`);
    const missing = /can't find file to patch at input line (\d+)/.exec(line);
    if (missing) rejects.push(`a file it patches does not exist (patch input line ${missing[1]})`);
    if (/Reversed \(or previously applied\) patch detected/.test(line)) rejects.push(`${current} is already patched`);
  }
  if (rejects.length) return `rejected: ${[...new Set(rejects)].join(', ')}`;
  if (/Only garbage was found|malformed patch|unexpected end of file in patch/.test(output)) return 'it is not a valid patch';
  const last = output.trim().split('\n').filter(Boolean).pop();
  return last ? `patch said: ${last}` : 'patch failed without output';
}

/** Applies one patch; on failure nothing is left half-applied, since the dry run comes first. */
export async function applyPatch(tree: string, ref: PatchRef, logFile?: string): Promise<void> {
  const args = [`-p${ref.strip}`, '--batch', '--forward', '--no-backup-if-mismatch', '-r', '-', '-d', tree, '-i', ref.file];
  const dry = await run('patch', ['--dry-run', ...args], { allowFailure: true });
  if (dry.exitCode !== 0 || !/patching file|checking file/.test(dry.stdout)) {
    throw new InputError(`patch ${ref.file} (${ref.origin}) does not apply: ${describePatchFailure(`${dry.stdout}\n${dry.stderr}`)}`);
  }
  await run('patch', args, { logFile });
}
