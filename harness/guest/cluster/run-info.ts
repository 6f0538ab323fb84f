/**
 * What a run directory says about its cluster (cluster.json, written by Cluster),
 * and which run is live: the one whose `clogtest up` process (up.pid) still runs.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { InputError } from '../../base/errors.ts';
import { runsRoot } from '../../base/paths.ts';
import { isAlive } from '../../base/proc.ts';

export const UP_PID_FILE = 'up.pid';

export interface RunInfo {
  dir: string;
  name: string;
  sshKey: string;
  nodes: Array<{ id: number; ip: string; sshPort: number; clusterPort: number; pid?: number }>;
  /** The `clogtest up` process holding the cluster, when it is still alive. */
  upPid?: number;
}

export function readRun(dir: string): RunInfo {
  const file = join(dir, 'cluster.json');
  if (!existsSync(file)) throw new InputError(`${dir} is not a cluster run directory (no cluster.json)`);
  const info = JSON.parse(readFileSync(file, 'utf8')) as Omit<RunInfo, 'dir' | 'upPid'>;
  const pidFile = join(dir, UP_PID_FILE);
  const pid = existsSync(pidFile) ? Number(readFileSync(pidFile, 'utf8').trim()) : undefined;
  return { ...info, dir, upPid: pid !== undefined && Number.isInteger(pid) && isAlive(pid) ? pid : undefined };
}

/** The run named by --run, or else the newest run whose `clogtest up` is still running. */
export function liveRun(runDir?: string): RunInfo {
  if (runDir) {
    const info = readRun(resolve(runDir));
    if (info.upPid === undefined) throw new InputError(`the cluster of ${runDir} is not running (its \`clogtest up\` has exited)`);
    return info;
  }
  const root = runsRoot();
  const dirs = existsSync(root) ? readdirSync(root).sort().reverse() : [];
  for (const d of dirs) {
    const dir = join(root, d);
    if (!existsSync(join(dir, UP_PID_FILE))) continue;
    const info = readRun(dir);
    if (info.upPid !== undefined) return info;
  }
  throw new InputError(`no running cluster under ${root}: start one with \`clogtest up\``);
}
