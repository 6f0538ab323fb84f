import { parseArgs, type ParseArgsConfig } from 'node:util';
import { InputError } from '../base/errors.ts';
import type { Scope } from '../base/scope.ts';

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
  /**
   * Options end at the first positional: everything from there on is passed through
   * verbatim (`clogtest ssh 2 corosync-quorumtool -s`), as ssh and env do.
   */
  optionsBeforePositionals?: boolean;
  /** Exit code for an option the command does not know, when 2 would mean something else to its caller. */
  usageExitCode?: number;
  run(
    values: ReturnType<typeof parseArgs<{ options: O; allowPositionals: true; strict: true }>>['values'],
    positionals: string[],
    ctx: CommandContext,
  ): Promise<number>;
}

/** --fixes, as every command that builds a kernel or an image says it. */
export const FIXES_HELP = `  --fixes                  apply every fix (vm-images/fixes/ to cmirrord, kernel-patches/fixes/
                           to the kernel) after the patches given; cached under keys of their own`;

export function defineCommand<O extends Options>(c: Command<O>): Command {
  return c as unknown as Command;
}

/** Index of the first positional in argv, skipping the values of string options. */
function firstPositional(cmd: Command, argv: string[]): number {
  const takesValue = (arg: string) => {
    const long = /^--([^=]+)$/.exec(arg);
    if (long) return cmd.options[long[1]!]?.type === 'string';
    const short = /^-(\w)$/.exec(arg);
    return short ? Object.values(cmd.options).some((o) => o.short === short[1] && o.type === 'string') : false;
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') return i;
    if (!arg.startsWith('-') || arg === '-') return i;
    if (takesValue(arg)) i++;
  }
  return argv.length;
}

export interface ParsedArgs {
  values: Record<string, string | boolean | Array<string | boolean> | undefined>;
  positionals: string[];
}

export function parseCommandArgs(cmd: Command, argv: string[]): ParsedArgs {
  if (cmd.optionsBeforePositionals) {
    const split = firstPositional(cmd, argv);
    const rest = argv[split] === '--' ? argv.slice(split + 1) : argv.slice(split);
    const parsed = parseCommandArgs({ ...cmd, optionsBeforePositionals: false }, argv.slice(0, split));
    return { ...parsed, positionals: [...parsed.positionals, ...rest] };
  }
  try {
    return parseArgs({
      args: argv,
      options: { ...cmd.options, help: { type: 'boolean', short: 'h' } },
      allowPositionals: cmd.allowPositionals ?? false,
      strict: true,
    });
  } catch (err) {
    // Node appends advice about '--' that does not fit every command; the first sentence is the error.
    const msg = (err instanceof Error ? err.message.split('\n')[0]! : String(err)).replace(/\. To specify a positional.*$/, '');
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
