/** Reads `corosync-quorumtool -s` output into the facts the bring-up waits for. */

export interface QuorumStatus {
  quorate: boolean;
  totalVotes: number | undefined;
  expectedVotes: number | undefined;
  /** Node ids from the membership table, ascending. */
  members: number[];
  /** The node id corosync reports for the local node. */
  localId: number | undefined;
}

function field(text: string, name: string): string | undefined {
  const m = new RegExp(`^${name}:\\s*(.*?)\\s*$`, 'm').exec(text);
  return m?.[1];
}

function intField(text: string, name: string): number | undefined {
  const v = field(text, name);
  return v !== undefined && /^\d+$/.test(v) ? Number(v) : undefined;
}

export function parseQuorumtool(text: string): QuorumStatus {
  const members: number[] = [];
  const table = /^Membership information\s*\n-+\s*\n([\s\S]*)$/m.exec(text);
  if (table) {
    for (const line of table[1]!.split('\n')) {
      const m = /^\s*(\d+)\s+\d+\s+\S/.exec(line);
      if (m) members.push(Number(m[1]));
    }
  }
  members.sort((a, b) => a - b);
  return {
    quorate: field(text, 'Quorate') === 'Yes',
    totalVotes: intField(text, 'Total votes'),
    expectedVotes: intField(text, 'Expected votes'),
    members,
    localId: intField(text, 'Node ID'),
  };
}

/** True when the node sees exactly the expected members, each with its vote, and is quorate or not as expected. */
export function hasMembership(status: QuorumStatus, expected: readonly number[], quorate = true): boolean {
  const want = [...expected].sort((a, b) => a - b);
  return (
    status.quorate === quorate &&
    status.totalVotes === want.length &&
    status.members.length === want.length &&
    status.members.every((id, i) => id === want[i])
  );
}

/** One line for "last seen" in a deadline message. */
export function describeQuorum(s: QuorumStatus): string {
  return `quorate=${s.quorate ? 'yes' : 'no'} votes=${s.totalVotes ?? '?'} members=[${s.members.join(',')}]`;
}
