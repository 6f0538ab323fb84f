/**
 * What a case directory holds, by path: the runner writes it, the checks read it. A checker sees only
 * what the case recorded here, so a live run and `clogtest check` on a kept directory judge alike.
 *
 *   history.jsonl             every step, fault, workload event, poll, sample and verdict (events.ts)
 *   findings.json             every finding of a failed check
 *   writes/*.jsonl            each writer's and reader's log (oracle/writer-log.ts)
 *   samples/sN-mM-*.img       log device and differing leg blocks of each freeze taken during I/O
 *   evidence/POINT/           what the nodes said when the checks ran at POINT ('end', or 'step-N' for a
 *                             check step in the middle of a case): nodeN-status.txt, nodeN-cmirrord.txt,
 *                             nodeN-kernel.txt, and disks/ (copies; 'end' judges the cluster's own disks)
 *   <cluster dir>/            the cluster's directory (cluster.json, consoles, guest logs, disks/)
 *   coverage/POINT/nodeN/     with --coverage: the gcov counters node N gave at POINT, by component
 *                             (linux/, cmirrord/), and coverage.json, the case's coverage from them all
 */
import { join } from 'node:path';

export const HISTORY_FILE = 'history.jsonl';
export const FINDINGS_FILE = 'findings.json';
export const WRITES_DIR = 'writes';
export const SAMPLES_DIR = 'samples';
export const EVIDENCE_DIR = 'evidence';
export const COVERAGE_DIR = 'coverage';
export const COVERAGE_FILE = 'coverage.json';

/** Where the checks run: at the end of the case, or at the check step with this (1-based) number. */
export type Point = 'end' | `step-${number}`;

export function stepPoint(step: number): Point {
  return `step-${step}`;
}

export function evidenceDir(caseDir: string, point: Point): string {
  return join(caseDir, EVIDENCE_DIR, point);
}

/** The counters node `node` gave at `point` (--coverage). */
export function coverageDir(caseDir: string, point: Point, node: number): string {
  return join(caseDir, COVERAGE_DIR, point, `node${node}`);
}

/** Per-node evidence files at a point. */
export const EVIDENCE_FILES = {
  status: (node: number) => `node${node}-status.txt`,
  dump: (node: number) => `node${node}-cmirrord.txt`,
  kernel: (node: number) => `node${node}-kernel.txt`,
} as const;

export function sampleFile(sample: number, mirror: number, what: 'log' | `leg${number}`): string {
  return join(SAMPLES_DIR, `s${sample}-m${mirror}-${what}.img`);
}
