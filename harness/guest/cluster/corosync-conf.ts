/**
 * corosync.conf for a static cluster on the hub segment. Every block is written on
 * several lines: corosync 3.1.7 rejects one-line blocks such as `quorum { provider: x }`.
 */
import { InputError } from '../../base/errors.ts';
import { GUEST_LOG_DIR } from '../../base/guest-contract.ts';

export interface CorosyncNode {
  id: number;
  ip: string;
}

export interface CorosyncConfOptions {
  clusterName: string;
  nodes: readonly CorosyncNode[];
  /** totem token timeout in ms; TCG guests need more than corosync's default 1000. */
  tokenMs?: number;
}

export const DEFAULT_TOKEN_MS = 3000;
/**
 * The token while the membership first forms. Nodes first form rings of one, before their knet links are up,
 * and then merge; a join that crosses a link up in one direction only is lost, and the merge waits out the
 * consensus timeout (1.2 token) to try again. With a 3 s token that took 4-5 s of a 12 s quorum phase under
 * TCG; once every node is quorate the cluster is told the case's token (a corosync reload).
 */
export const FORMATION_TOKEN_MS = 1000;
/**
 * A guest starved of CPU while the membership forms (seen: a host busy with a compile, a guest whose boot
 * took 40 s of its own time) makes a 1 s token churn: corosync then spins at its realtime priority. When no
 * quorate membership has formed by this time, corosync is restarted everywhere with the case's token.
 */
export const FORMATION_DEADLINE_MS = 20_000;
export const COROSYNC_LOG = `${GUEST_LOG_DIR}/corosync.log`;

type Block = { [key: string]: string | number | Block | Block[] };

function render(name: string, body: Block, indent: string): string[] {
  const lines = [`${indent}${name} {`];
  for (const [key, value] of Object.entries(body)) {
    if (Array.isArray(value)) for (const b of value) lines.push(...render(key, b, `${indent}    `));
    else if (typeof value === 'object') lines.push(...render(key, value, `${indent}    `));
    else lines.push(`${indent}    ${key}: ${value}`);
  }
  lines.push(`${indent}}`);
  return lines;
}

export function corosyncConf(opts: CorosyncConfOptions): string {
  const { clusterName, nodes } = opts;
  const tokenMs = opts.tokenMs ?? DEFAULT_TOKEN_MS;
  if (!/^[A-Za-z0-9_-]{1,32}$/.test(clusterName)) {
    throw new InputError(`cluster name "${clusterName}" must be 1-32 characters of letters, digits, - and _`);
  }
  if (nodes.length < 1) throw new InputError('a corosync cluster needs at least one node');
  const ids = new Set(nodes.map((n) => n.id));
  if (ids.size !== nodes.length) throw new InputError('corosync node ids must be unique');
  for (const n of nodes) {
    if (!Number.isInteger(n.id) || n.id < 1) throw new InputError(`corosync node id must be a positive integer, got ${n.id}`);
  }
  if (!Number.isInteger(tokenMs) || tokenMs < 100) throw new InputError(`token timeout must be at least 100 ms, got ${tokenMs}`);

  const quorum: Block = { provider: 'corosync_votequorum' };
  if (nodes.length === 2) quorum.two_node = 1;
  const sections: Array<[string, Block]> = [
    [
      'totem',
      {
        version: 2,
        cluster_name: clusterName,
        transport: 'knet',
        crypto_cipher: 'none',
        crypto_hash: 'none',
        token: tokenMs,
      },
    ],
    [
      'nodelist',
      { node: [...nodes].sort((a, b) => a.id - b.id).map((n) => ({ ring0_addr: n.ip, name: `node${n.id}`, nodeid: n.id })) },
    ],
    ['quorum', quorum],
    [
      'logging',
      {
        to_logfile: 'yes',
        logfile: COROSYNC_LOG,
        to_syslog: 'no',
        to_stderr: 'no',
        timestamp: 'on',
      },
    ],
  ];
  return `${sections.map(([name, body]) => render(name, body, '').join('\n')).join('\n\n')}\n`;
}
