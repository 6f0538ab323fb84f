import t from 'tap';
import { freePorts } from '../../../harness/guest/cluster/ports.ts';

t.test('free ports are never handed out twice in one process, across calls run at once', async (t) => {
  const calls = await Promise.all([freePorts('udp', 8), freePorts('udp', 8), freePorts('tcp', 8), freePorts('tcp', 8)]);
  const udp = [...calls[0]!, ...calls[1]!];
  const tcp = [...calls[2]!, ...calls[3]!];
  t.equal(new Set(udp).size, 16);
  t.equal(new Set(tcp).size, 16);
  const again = await freePorts('udp', 4);
  t.same(again.filter((p) => udp.includes(p)), []);
});
