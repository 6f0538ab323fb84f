import { parseArgs, type ParseArgsConfig } from 'node:util';
import { InputError } from '../errors.ts';
import type { Scope } from '../scope.ts';

type Options = NonNullable<ParseArgsConfig['options']>;

export interface CommandContext {
  /** Released in reverse order on success, failure and SIGINT/SIGTERM. */
  scope: Scope;
}

export interface Command<O extends Options = Options> {
  name: string;
  summary: string;
  /** Full --help text after the summary line: usage, options, exit codes. */
  help: string;
  options: O;
  allowPositionals?: boolean;
  run(
    values: ReturnType<typeof parseArgs<{ options: O; allowPositionals: true; strict: true }>>['values'],
    positionals: string[],
    ctx: CommandContext,
  ): Promise<number>;
}

export function defineCommand<O extends Options>(c: Command<O>): Command {
  return c as unknown as Command;
}

export function parseCommandArgs(cmd: Command, argv: string[]) {
  try {
    return parseArgs({
      args: argv,
      options: { ...cmd.options, help: { type: 'boolean', short: 'h' } },
      allowPositionals: cmd.allowPositionals ?? false,
      strict: true,
    });
  } catch (err) {
    const msg = err instanceof Error ? err.message.split('\n')[0] : String(err);
    throw new InputError(`clogtest ${cmd.name}: ${msg} (see \`clogtest ${cmd.name} --help\`)`);
  }
}

export function helpText(cmd: Command): string {
  return `clogtest ${cmd.name}: ${cmd.summary}\n\n${cmd.help.trim()}\n`;
}

export function intOption(name: string, raw: string | undefined, fallback: number, min: number, max: number): number {
  if (raw === undefined) return fallback;
  if (!/^\d+$/.test(raw)) throw new InputError(`--${name} must be a whole number, got "${raw}"`);
  const n = Number(raw);
  if (n < min || n > max) throw new InputError(`--${name} must be between ${min} and ${max}, got ${n}`);
  return n;
}
