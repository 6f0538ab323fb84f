import type { Command } from './command.ts';
import setup from './setup.ts';

/** Every subcommand, in the order `clogtest --help` lists them. */
export const commands: Command[] = [setup];
