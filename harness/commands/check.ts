import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Topology } from '../case/schema.ts';
import { merge } from '../checks/disks.ts';
import { clockSkewNs, GUEST_CLOCKS_EVENT, UNMEASURED_SKEW_NS, type ClockReading } from '../cluster/clock.ts';
import { EXIT, InputError } from '../errors.ts';
import type { HistoryEntry } from '../history.ts';
import { mirrorLayouts, type MirrorLayout } from '../mirror/table.ts';
import { checkCleanImpliesEqual } from '../oracle/checks/clean-implies-equal.ts';
import { checkLegsConverge } from '../oracle/checks/legs-converge.ts';
import { checkNoLostWrites } from '../oracle/checks/no-lost-writes.ts';
import { safeCheck, type Verdict } from '../oracle/verdict.ts';
import { readWriterEvents } from '../workload/run.ts';
import { defineCommand } from './command.ts';

/** What the runner wrote into a case directory that the host-side checks need. */
interface KeptCase {
  dir: string;
  name: string;
  runId: number;
  topology: Topology;
  workloads: Array<{ mirror: number; blockSize: number }>;
  /** Shared disk file by serial. */
  disks: Map<string, string>;
  /** How far apart the guests' clocks may have been: from the run's last clock readings, else a second. */
  clockSkewNs: number;
  /** Each node's last `dmsetup status` (all devices), by node id. */
  statuses: Array<{ node: number; text: string }>;
}

function readKeptCase(dir: string): KeptCase {
  const history = readFileSync(join(dir, 'history.jsonl'), 'utf8').split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l) as HistoryEntry);
  const start = history.find((e) => e.what === 'case start');
  if (!start || typeof start.seed !== 'number' || !start.topology) {
    throw new InputError(`check: ${dir}/history.jsonl has no "case start" entry with seed and topology (a case run by an older clogtest?)`);
  }
  const clusterDir = readdirSync(dir).map((d) => join(dir, d)).find((d) => existsSync(join(d, 'cluster.json')));
  if (!clusterDir) throw new InputError(`check: no cluster directory (*/cluster.json) in ${dir}`);
  const described = JSON.parse(readFileSync(join(clusterDir, 'cluster.json'), 'utf8')) as { disks: Array<{ serial: string }> };
  // By serial under the cluster directory, not the recorded path: a kept run may have been moved.
  const disks = new Map(described.disks.map((d) => [d.serial, join(clusterDir, 'disks', `${d.serial}.img`)]));
  const statuses = readdirSync(dir).flatMap((f) => {
    const m = /^node(\d+)-dmsetup-status\.txt$/.exec(f);
    return m ? [{ node: Number(m[1]), text: readFileSync(join(dir, f), 'utf8') }] : [];
  });
  const clocks = history.filter((e) => e.what === GUEST_CLOCKS_EVENT).at(-1);
  return {
    dir,
    clockSkewNs: clocks ? clockSkewNs(clocks.readings as ClockReading[]) : UNMEASURED_SKEW_NS,
    name: String(start.case ?? dir),
    runId: start.seed,
    topology: start.topology as Topology,
    workloads: (start.workloads as KeptCase['workloads'] | undefined) ?? [],
    disks,
    statuses,
  };
}

function disk(k: KeptCase, serial: string): string {
  const file = k.disks.get(serial);
  if (!file || !existsSync(file)) throw new Error(`shared disk ${serial} not kept (${file ?? 'not in cluster.json'}); run the case with --keep`);
  return file;
}

const legs = (k: KeptCase, m: MirrorLayout) => m.legs.map((l, i) => ({ source: { path: disk(k, l.serial) }, label: `${m.name}/leg${i}` }));

/** The block size the workloads wrote with; findings are located in these blocks. 512 when none or mixed. */
function blockBytes(k: KeptCase): number {
  const sizes = [...new Set(k.workloads.map((w) => w.blockSize))];
  return sizes.length === 1 ? sizes[0]! : 512;
}

/** Statuses naming mirror m, one line each, for legs-converge. */
function statusesOf(k: KeptCase, m: MirrorLayout): Array<{ node: number; text: string }> {
  return k.statuses.map((s) => ({ node: s.node, text: s.text.split('\n').filter((l) => l.startsWith(`${m.name}:`)).join('\n') }));
}

function cleanImpliesEqual(k: KeptCase, mirrors: MirrorLayout[]): Promise<Verdict> {
  const withLog = mirrors.filter((m) => m.log);
  if (withLog.length === 0) return Promise.resolve({ valid: 'unknown', invariant: 'clean-implies-equal', detail: 'clustered-core: no log device to read', findings: [] });
  return Promise.all(
    withLog.map(async (m) =>
      checkCleanImpliesEqual({
        log: await readFile(disk(k, m.log!.serial)),
        legs: legs(k, m),
        regionBytes: k.topology.regionSize,
        blockBytes: blockBytes(k),
        mirrorBytes: m.sectors * 512,
        runId: k.runId,
      }),
    ),
  ).then((vs) => merge('clean-implies-equal', vs));
}

async function noLostWrites(k: KeptCase, mirrors: MirrorLayout[]): Promise<Verdict> {
  const invariant = 'no-lost-writes';
  const events = readWriterEvents(k.dir).filter((e) => e.op !== 'read');
  if (events.length === 0) return { valid: true, invariant, detail: 'no writes were made', findings: [] };
  const used = [...new Set(k.workloads.map((w) => w.mirror))];
  if (used.length !== 1 || new Set(k.workloads.map((w) => w.blockSize)).size !== 1) {
    return { valid: 'unknown', invariant, detail: `workloads span mirrors ${used.join(',')} or several block sizes: not supported in this version`, findings: [] };
  }
  return checkNoLostWrites({
    events,
    images: legs(k, mirrors[used[0]!]!),
    blockBytes: blockBytes(k),
    runId: k.runId,
    regionBytes: k.topology.regionSize,
    clockSkewNs: k.clockSkewNs,
  });
}

async function legsConverge(k: KeptCase, mirrors: MirrorLayout[]): Promise<Verdict> {
  const vs = await Promise.all(
    mirrors.map((m) =>
      checkLegsConverge({
        statuses: statusesOf(k, m),
        mirror: m.name,
        legs: legs(k, m),
        regionBytes: k.topology.regionSize,
        blockBytes: blockBytes(k),
        mirrorBytes: m.sectors * 512,
        runId: k.runId,
      }),
    ),
  );
  return merge('legs-converge', vs);
}

/** clean-implies-equal, no-lost-writes and legs-converge on a kept case directory, as the end checks judged them. */
export async function checkKeptCase(dir: string): Promise<Array<{ check: string; verdict: Verdict }>> {
  const k = readKeptCase(dir);
  const mirrors = mirrorLayouts(k.topology);
  const checks = { 'clean-implies-equal': cleanImpliesEqual, 'no-lost-writes': noLostWrites, 'legs-converge': legsConverge };
  const out: Array<{ check: string; verdict: Verdict }> = [];
  for (const [check, fn] of Object.entries(checks)) out.push({ check, verdict: await safeCheck(check, () => fn(k, mirrors)) });
  return out;
}

/** RUN_DIR itself when it is a case directory, else the case directories in it. */
export function keptCaseDirs(runDir: string): string[] {
  if (existsSync(join(runDir, 'history.jsonl'))) return [runDir];
  if (!existsSync(runDir) || !statSync(runDir).isDirectory()) throw new InputError(`check: ${runDir} is not a directory`);
  const dirs = readdirSync(runDir).map((d) => join(runDir, d)).filter((d) => existsSync(join(d, 'history.jsonl'))).sort();
  if (dirs.length === 0) throw new InputError(`check: no case directory (with history.jsonl) in ${runDir}`);
  return dirs;
}

export default defineCommand({
  name: 'check',
  summary: "re-run the host-side checks on a kept run's disk files and writer logs",
  help: `usage: clogtest check RUN_DIR

RUN_DIR is a run directory (runs/<stamp>/) or one case directory in it, kept with
\`clogtest run --keep\` (failing cases are always kept). For each case, reads the shared
disk files, the writers' logs and the nodes' last \`dmsetup status\` from the directory and
judges clean-implies-equal, no-lost-writes and legs-converge as the end checks did,
without booting anything. Prints one line per verdict and the details of failures.

Exit 0 when no check failed, 1 when one did, 2 when RUN_DIR holds no kept case.`,
  options: {},
  allowPositionals: true,
  async run(_values, positionals) {
    if (positionals.length !== 1) throw new InputError('check: give exactly one RUN_DIR (see `clogtest check --help`)');
    let failed = false;
    for (const dir of keptCaseDirs(positionals[0]!)) {
      process.stdout.write(`${dir}\n`);
      for (const { check, verdict } of await checkKeptCase(dir)) {
        const state = verdict.valid === true ? 'ok' : verdict.valid === false ? 'FAILED' : 'unknown';
        const [first, ...rest] = verdict.detail.split('\n');
        process.stdout.write(`  ${check}: ${state}: ${first}\n${verdict.valid === false ? rest.map((l) => `    ${l}\n`).join('') : ''}`);
        failed ||= verdict.valid === false;
      }
    }
    return failed ? EXIT.checkFailed : EXIT.ok;
  },
});
