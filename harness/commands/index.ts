import type { Command } from './command.ts';
import setup from './setup.ts';
import decodeLog from './decode-log.ts';
import kernel from './kernel.ts';
import image from './image.ts';
import validate from './validate.ts';

/** Every subcommand, in the order `clogtest --help` lists them. */
export const commands: Command[] = [setup, kernel, image, decodeLog, validate];
