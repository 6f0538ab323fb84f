import t from 'tap';
import { join } from 'node:path';
import { run } from '../../../harness/base/proc.ts';
import { repoRoot } from '../../../harness/base/paths.ts';
import { kernelCommandLine } from '../../../harness/base/guest-contract.ts';

const INIT = join(repoRoot, 'vm-images', 'guest', 'init');

async function parse(cmdline: string): Promise<string> {
  const res = await run('bash', ['-c', 'source "$1"; clogtest_parse_cmdline "$2"', 'test', INIT, cmdline]);
  return res.stdout;
}

t.test('init reads the keys harness/base/guest-contract.ts writes', async (t) => {
  const out = await parse(kernelCommandLine(2, ['clogtest.extra=a=b']));
  t.same(out.split('\n'), [
    'node 2',
    'hostname node2',
    'mgmt_mac 52:54:00:a0:00:02',
    'mgmt_ip 10.0.2.15/24',
    'mgmt_gw 10.0.2.2',
    'cluster_mac 52:54:00:c1:00:02',
    'cluster_ip 192.168.77.2/24',
    'extra a=b',
  ]);
});

t.test('init ignores the kernel own words', async (t) => {
  t.equal(await parse('console=ttyS0 root=/dev/vda clogtestx=1 quiet'), '');
});

t.test('sourcing init runs nothing', async (t) => {
  const res = await run('bash', ['-c', 'source "$1"; echo sourced', 'test', INIT]);
  t.equal(res.stdout, 'sourced');
});
