/**
 * With --coverage, every live node's gcov counters at a point (each check step and the end), into the case
 * directory: the kernel's from debugfs, reset once read; cmirrord's written on SIGUSR2 (its coverage
 * build's patch), removed once read. So each collection holds what ran since the one before, and a case's
 * coverage is their sum. What a node ran since its last collection is lost when it crashes or when its
 * cmirrord is killed: the collection says so.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';
import { GUEST_GCOV_DIR, GUEST_KERNEL_GCOV_DIR } from '../../base/guest-contract.ts';
import { errorMessage } from '../../base/errors.ts';
import { events } from '../../record/events.ts';
import { coverageDir, type Point } from '../../record/layout.ts';
import type { BuildCoverage } from '../../stack/coverage.ts';
import { liveNodes, type CaseContext } from '../context/case-context.ts';

const COLLECT_MS = 60_000;
/** How long cmirrord may take to write its counters after SIGUSR2 (it answers from its main loop). */
const DUMP_ROUND_MS = 250;
const DUMP_WAIT_ROUNDS = 20;

/** Where a build's counters are in the guest. */
function guestDir(b: BuildCoverage): string {
  return `${b.component === 'linux' ? GUEST_KERNEL_GCOV_DIR : GUEST_GCOV_DIR}${b.buildDir}`;
}

/**
 * One round trip: prints `F <component> <path>` and the file's bytes in base64 on the next line for every
 * counter file, and `N <note>` for what could not be collected.
 */
export function collectScript(builds: readonly BuildCoverage[]): string {
  const parts = [
    'mountpoint -q /sys/kernel/debug || mount -t debugfs debugfs /sys/kernel/debug',
    `emit() { find "$2" -name '*.gcda' 2>/dev/null | while read -r f; do echo "F $1 \${f#$2/}"; base64 -w0 < "$f"; echo; done; }`,
  ];
  for (const b of builds) {
    const dir = guestDir(b);
    if (b.component === 'linux') {
      parts.push(`[ -d ${dir} ] || echo "N the kernel has no gcov counters under ${dir}"`);
      parts.push(`emit linux ${dir}`, `find ${dir} -name '*.gcda' | while read -r f; do echo 1 > "$f"; done`);
      continue;
    }
    // libgcov writes one file per object that has functions, one after the other: the dump is done when
    // some files are fresh and their number has stopped growing.
    parts.push(
      `stamp=$(mktemp)`,
      `if pid=$(pidof cmirrord); then kill -USR2 $pid; i=0; prev=-1; while :; do ` +
        `n=$(find ${dir} -name '*.gcda' -newer $stamp 2>/dev/null | wc -l); [ $n -gt 0 ] && [ $n = $prev ] && break; ` +
        `i=$((i + 1)); [ $i -gt ${DUMP_WAIT_ROUNDS} ] && { echo "N cmirrord did not write its counters within ${(DUMP_WAIT_ROUNDS * DUMP_ROUND_MS) / 1000} s of SIGUSR2: what it ran since the last collection is lost"; break; }; ` +
        `prev=$n; sleep ${DUMP_ROUND_MS / 1000}; done; ` +
        `else echo "N cmirrord was not running: what a daemon killed since the last collection ran is lost"; fi`,
      `rm -f $stamp`,
      `emit cmirrord ${dir}`,
      `find ${dir} -name '*.gcda' -delete 2>/dev/null`,
    );
  }
  return parts.join('\n');
}

export interface Collected {
  files: Array<{ component: string; path: string; bytes: Buffer }>;
  notes: string[];
}

/** The script's output; a path that would leave the collection directory is refused. */
export function parseCollected(stdout: string): Collected {
  const out: Collected = { files: [], notes: [] };
  const lines = stdout.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.startsWith('N ')) out.notes.push(line.slice(2));
    const m = /^F (linux|cmirrord) (\S+\.gcda)$/.exec(line);
    if (!m) continue;
    const path = normalize(m[2]!);
    if (path.startsWith('..') || path.startsWith('/')) throw new Error(`coverage collection: refused counter path ${m[2]}`);
    out.files.push({ component: m[1]!, path, bytes: Buffer.from(lines[++i] ?? '', 'base64') });
  }
  return out;
}

export async function collectCoverage(ctx: CaseContext, point: Point): Promise<void> {
  const builds = ctx.coverage;
  if (!builds.length) return;
  const live = liveNodes(ctx);
  const lost = ctx.cluster.nodes.filter((n) => !live.includes(n)).map((n) => `${n.name}: down at ${point}; what it ran since its last collection is lost`);
  const collected: number[] = [];
  await Promise.all(
    live.map(async (n) => {
      try {
        const r = await n.exec(collectScript(builds), { timeoutMs: COLLECT_MS });
        if (r.code !== 0) throw new Error(`exit ${r.code}: ${r.stderr.trim().split('\n')[0]}`);
        const got = parseCollected(r.stdout);
        for (const f of got.files) {
          const file = join(coverageDir(ctx.dir, point, n.id), f.component, f.path);
          mkdirSync(dirname(file), { recursive: true });
          writeFileSync(file, f.bytes);
        }
        lost.push(...got.notes.map((note) => `${n.name}: ${note}`));
        collected.push(n.id);
      } catch (err) {
        lost.push(`${n.name}: counters not collected: ${errorMessage(err).split('\n')[0]}`);
      }
    }),
  );
  events.coverage(ctx.history, { point, nodes: collected.sort((a, b) => a - b), lost });
}
