import type { Command } from './command.ts';
import setup from './setup.ts';
import doctor from './doctor.ts';
import decodeLog from './decode-log.ts';
import kernel from './kernel.ts';
import image from './image.ts';
import stacks from './stacks.ts';
import validate from './validate.ts';
import up from './up.ts';
import ssh from './ssh.ts';
import down from './down.ts';
import bench from './bench.ts';
import run from './run.ts';
import check from './check.ts';
import report from './report.ts';
import bisectRun from './bisect-run.ts';
import mergeResults from './merge-results.ts';
import mutate from './mutate.ts';
import explore from './explore.ts';

/** Every subcommand, in the order `clogtest --help` lists them. */
export const commands: Command[] = [setup, doctor, kernel, image, stacks, decodeLog, validate, up, ssh, down, bench, run, check, report, mutate, explore, bisectRun, mergeResults];
