/** Where a cluster's run directory keeps each node's files, among them the guest logs its tear-down pulls. */
import { existsSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { GUEST_LOG_DIR } from '../../base/guest-contract.ts';

export function nodeDir(clusterDir: string, id: number): string {
  return join(clusterDir, `node${id}`);
}

/** The node ids that have a directory in the cluster's run directory. */
export function nodeIdsIn(clusterDir: string): number[] {
  if (!existsSync(clusterDir)) return [];
  return readdirSync(clusterDir)
    .map((d) => /^node(\d+)$/.exec(d))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => Number(m[1]))
    .sort((a, b) => a - b);
}

/** The directory a node's GUEST_LOG_DIR is pulled into at tear-down. */
export function pulledLogsDir(nodeDirPath: string): string {
  return join(nodeDirPath, 'guest');
}

/** Where a file under GUEST_LOG_DIR lands once pulled. */
export function pulledLog(nodeDirPath: string, guestPath: string): string {
  return join(pulledLogsDir(nodeDirPath), relative(GUEST_LOG_DIR, guestPath));
}
