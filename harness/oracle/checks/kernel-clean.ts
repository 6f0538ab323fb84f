/**
 * Invariant 7 (kernel side): no node's kernel log shows a kernel bug, a hang, or a device-mapper error,
 * except lines a case declares expected (a regex and the reason it is expected).
 *
 * Which device-mapper messages count, from the Linux 6.1 sources (DMERR/DMWARN print
 * "device-mapper: PREFIX: TEXT"; prefixes "raid1" for dm-raid1.c, "dm-log-userspace" for dm-log-userspace-*.c,
 * "dirty region log" for dm-log.c):
 *   - Always flagged, because they are errors whichever fault is running: every line matching
 *     "device-mapper: ... error|failed|fail|dead|unable|incomplete|insufficient|not found|couldn't". These cover
 *     dm-raid1's read/write/recovery failures ("Read failure on mirror device %s. Trying alternative device." and its "Failing I/O" twin, "Mirror read failed",
 *     "Unable to read primary mirror during recovery", "Write error during recovery", "Primary mirror (...) failed
 *     while out-of-sync", "All sides of mirror have failed", "All replicated volumes dead", "log ... failed"), and
 *     dm-log-userspace's "Userspace log server not found.", "Unable to send log request [N] to userspace: -3",
 *     "Error trying to resume userspace log", "Incomplete message received", "Insufficient space to receive package".
 *     The leg/log failure ones are expected only while a case fails a leg or the log (fail-leg, fail-log); the
 *     "server not found"/"Unable to send" pair only while cmirrord is down (kill-daemon, crash of its node's
 *     daemon); a case that injects those declares them. Incomplete/Insufficient are protocol bugs: never declare them.
 *   - Not flagged: dm-log-userspace "[UUID] Request timed out: [T/S] - retrying" (DMWARN, 15 s without an answer:
 *     normal under pause, partition or a slow daemon; a hang shows up in no-hang, and requests-answered judges these
 *     lines in cases whose faults cannot explain them), "Attempting to contact userspace
 *     log server..." and "Reconnected to userspace log server... DM_ULOG_CTR complete" (recovery, not failure).
 *   - Block-layer I/O errors ("I/O error, dev X, sector N", "Buffer I/O error") are flagged too: without a
 *     fail-leg/fail-log fault no shared disk may return one.
 */
import { safeCheck, verdictFrom, type Finding, type Verdict } from '../verdict.ts';

export const INVARIANT = 'kernel-clean';

export interface KernelCleanInput {
  /** Each node's kernel log (`dmesg` text, with or without timestamps), whole. */
  logs: Array<{ node: number; dmesg: string }>;
  /** Lines a case expects (regex source, tested against the line without its timestamp), and why. */
  expected: Array<{ pattern: string; reason: string }>;
}

interface Rule {
  kind: string;
  re: RegExp;
  /** Lines after the match worth quoting: a BUG/WARNING's registers and call trace start there. */
  context: number;
}

export const RULES: readonly Rule[] = [
  { kind: 'kernel-bug', re: /\bBUG:|kernel BUG at/, context: 3 },
  { kind: 'kernel-warning', re: /\bWARNING:/, context: 3 },
  { kind: 'oops', re: /\bOops\b/, context: 3 },
  { kind: 'gpf', re: /general protection fault/, context: 3 },
  { kind: 'panic', re: /Kernel panic/, context: 3 },
  // The report's own line: "hung_task" alone also names the detector's sysctls on the command line.
  { kind: 'hung-task', re: /blocked for more than \d+ seconds/, context: 3 },
  { kind: 'rcu-stall', re: /rcu.*detected stalls?|self-detected stall/, context: 3 },
  {
    kind: 'dm-error',
    re: /device-mapper: .*(error|fail|dead|[Uu]nable|[Ii]ncomplete|[Ii]nsufficient|not found|couldn't)/,
    context: 0,
  },
  { kind: 'io-error', re: /I\/O error/, context: 0 },
];

/** dmesg's "[ 12.345678] " or `dmesg -T`'s "[Wed Nov 25 17:01:44 2026] ", which expected patterns never see. */
const TIMESTAMP = /^\s*\[[^\]]*\]\s?/;

export function kernelClean(input: KernelCleanInput): Verdict {
  const expected = input.expected.map((e) => {
    try {
      return { re: new RegExp(e.pattern), ...e };
    } catch (err) {
      throw new Error(`expected pattern ${JSON.stringify(e.pattern)} is not a regex: ${(err as Error).message}`);
    }
  });
  const findings: Finding[] = [];
  const excused = new Map<string, number>();
  let scanned = 0;
  for (const { node, dmesg } of input.logs) {
    const lines = dmesg.split('\n').map((l) => l.replace(/\s+$/, ''));
    scanned += lines.length;
    lines.forEach((raw, i) => {
      const line = raw.replace(TIMESTAMP, '');
      const rule = RULES.find((r) => r.re.test(line));
      if (!rule) return;
      const excuse = expected.find((e) => e.re.test(line));
      if (excuse) {
        excused.set(excuse.reason, (excused.get(excuse.reason) ?? 0) + 1);
        return;
      }
      const context = lines.slice(i + 1, i + 1 + rule.context).filter((l) => l.trim() !== '');
      findings.push({
        kind: rule.kind,
        nodes: [`node${node}`],
        message: `node${node} line ${i + 1}: ${rule.kind}: ${raw.trim()}${context.map((c) => `\n    ${c.trim()}`).join('')}`,
      });
    });
  }
  const nodes = input.logs.map((l) => `node${l.node}`).join(', ');
  const excuses = [...excused].map(([reason, n]) => `${n} expected (${reason})`).join('; ');
  return verdictFrom(
    INVARIANT,
    findings,
    `${scanned} kernel log lines of ${nodes}: no bug, hang or device-mapper error${excuses ? `; ${excuses}` : ''}`,
    `in the kernel logs of ${nodes}`,
    [{ n: scanned, what: 'kernel log lines' }, { n: input.logs.length, what: 'nodes' }],
  );
}

export const checkKernelClean = (input: KernelCleanInput) => safeCheck(INVARIANT, () => kernelClean(input));
