import t from 'tap';
import { hasMembership, parseQuorumtool } from '../../../harness/guest/cluster/quorum.ts';

const quorate = `Quorum information
------------------
Date:             Wed Nov 25 16:44:52 2026
Quorum provider:  corosync_votequorum
Nodes:            3
Node ID:          2
Ring ID:          1.c
Quorate:          Yes

Votequorum information
----------------------
Expected votes:   3
Highest expected: 3
Total votes:      3
Quorum:           2  
Flags:            Quorate 

Membership information
----------------------
    Nodeid      Votes Name
         1          1 node1
         2          1 node2 (local)
         3          1 node3
`;

const partial = `Quorum information
------------------
Date:             Wed Nov 25 16:44:52 2026
Quorum provider:  corosync_votequorum
Nodes:            1
Node ID:          1
Ring ID:          1.5
Quorate:          No

Votequorum information
----------------------
Expected votes:   3
Highest expected: 3
Total votes:      1
Quorum:           2 Activity blocked
Flags:            

Membership information
----------------------
    Nodeid      Votes Name
         1          1 192.168.77.1 (local)
`;

t.test('quorate three-node membership', async (t) => {
  const s = parseQuorumtool(quorate);
  t.same(s, { quorate: true, totalVotes: 3, expectedVotes: 3, members: [1, 2, 3], localId: 2 });
  t.ok(hasMembership(s, [3, 1, 2]));
  t.notOk(hasMembership(s, [1, 2, 3, 4]));
});

t.test('a lone node waiting for the others', async (t) => {
  const s = parseQuorumtool(partial);
  t.same(s, { quorate: false, totalVotes: 1, expectedVotes: 3, members: [1], localId: 1 });
  t.notOk(hasMembership(s, [1, 2, 3]));
  t.ok(hasMembership(s, [1], false), 'alone and not quorate, as expected in a partition');
  t.notOk(hasMembership(s, [1]));
});

t.test('corosync not running: empty output', async (t) => {
  const s = parseQuorumtool('');
  t.same(s, { quorate: false, totalVotes: undefined, expectedVotes: undefined, members: [], localId: undefined });
  t.notOk(hasMembership(s, [1]));
});
