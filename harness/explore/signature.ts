/**
 * A failed scenario's signature, and which known bug it is, if any (pure). The signature is what tells two
 * failures apart without reading them: each finding as check, kind of finding, the role of the node it names
 * (one the scenario faulted, or another) and the log request its message names; the set of those, sorted.
 * A failure is a known bug's when every finding matches a signature of a bug the scenario could have hit
 * (it did what the bug needs: known-bugs.ts `needs`); any other finding makes it a failure of its own.
 */
import { createHash } from 'node:crypto';
import { KNOWN_BUGS, type Trigger } from '../case/known-bugs.ts';
import type { CheckName } from '../case/schema.ts';
import { failedFindings, matchesPattern, nodesNamed } from '../judge/known-failure.ts';
import type { Finding } from '../oracle/verdict.ts';

/** dm-log-userspace's request types, as the checks' messages name them. */
const REQUEST = /\b(CTR|DTR|PRESUSPEND|POSTSUSPEND|RESUME|GET_REGION_SIZE|IS_CLEAN|IN_SYNC|FLUSH|MARK_REGION|CLEAR_REGION|GET_RESYNC_WORK|SET_REGION_SYNC|GET_SYNC_COUNT|STATUS_INFO|STATUS_TABLE|IS_REMOTE_RECOVERING)\b/;

export interface FailedVerdict {
  check: CheckName;
  valid: unknown;
  findings: readonly Finding[];
}

export interface SignatureContext {
  /** Nodes the scenario's faults targeted. */
  faultedNodes: readonly number[];
  /** What the scenario did (known-bugs.ts caseTriggers). */
  triggers: ReadonlySet<Trigger>;
  /** The bugs that may still show: every known bug, or with --fixes those without a fix. */
  bugs: readonly number[];
}

export interface Classification {
  /** One line: the sorted finding keys. Equal signatures are the same failure. */
  signature: string;
  /** A file name for the failure: `bug-N` for a known one, else the first key and a hash of the signature. */
  slug: string;
  /** The known bugs that explain every finding (fewest first found); absent: a failure of its own. */
  known?: number[];
  findings: number;
}

/** "check/kind/role[/REQUEST]": role is faulted, other or none (the finding names no node). */
export function findingKey(check: CheckName, f: Finding, faultedNodes: readonly number[]): string {
  const nodes = nodesNamed(f);
  const role = nodes.length === 0 ? 'none' : nodes.some((n) => faultedNodes.includes(n)) ? 'faulted' : 'other';
  const request = REQUEST.exec(f.message)?.[1];
  return [check, f.kind, role, ...(request ? [request] : [])].join('/');
}

/** The bugs that could explain a finding: in force, needed triggers present, a signature matched. */
function candidates(check: CheckName, f: Finding, ctx: SignatureContext): number[] {
  return ctx.bugs.filter((id) => {
    const bug = KNOWN_BUGS.get(id);
    if (!bug || !bug.needs.some((t) => ctx.triggers.has(t))) return false;
    return bug.findings.some((p) => matchesPattern(p, check, f, { bugs: [id] }, { faultedNodes: ctx.faultedNodes }));
  });
}

/**
 * Fewest bugs that together explain every finding, greedily: the bug explaining most of what is left first,
 * and of two that explain as much, the one that needs the narrower trigger (a hang after corosync died is
 * bug 5's before it is bug 4's).
 */
function cover(options: number[][]): number[] {
  const chosen: number[] = [];
  let left = options;
  while (left.length) {
    const counts = new Map<number, number>();
    for (const o of left) for (const id of o) counts.set(id, (counts.get(id) ?? 0) + 1);
    const narrow = (id: number) => KNOWN_BUGS.get(id)!.needs.length;
    const best = [...counts.entries()].sort((a, b) => b[1] - a[1] || narrow(a[0]) - narrow(b[0]) || a[0] - b[0])[0]![0];
    chosen.push(best);
    left = left.filter((o) => !o.includes(best));
  }
  return chosen.sort((a, b) => a - b);
}

export function classifyFailure(verdicts: readonly FailedVerdict[], ctx: SignatureContext): Classification {
  const found = failedFindings(verdicts).map(({ v, f }) => ({ check: v.check, f }));
  const keys = [...new Set(found.map(({ check, f }) => findingKey(check, f, ctx.faultedNodes)))].sort();
  const signature = keys.join(' ');
  const options = found.map(({ check, f }) => candidates(check, f, ctx));
  if (found.length && options.every((o) => o.length)) {
    const known = cover(options);
    return { signature, slug: `bug-${known.join('-')}`, known, findings: found.length };
  }
  const hash = createHash('sha1').update(signature).digest('hex').slice(0, 8);
  const head = (keys[0] ?? 'nothing').split('/').slice(0, 2).join('-');
  return { signature, slug: `${head}-${hash}`, findings: found.length };
}
