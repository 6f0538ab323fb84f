import t from 'tap';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { savedClusterKey, type SavedClusterInputs } from '../../../harness/guest/cluster/saved-cluster.ts';

const dir = mkdtempSync(join(tmpdir(), 'clogtest-saved-'));
const kernel = join(dir, 'bzImage');
const rootImage = join(dir, 'root.img');
writeFileSync(kernel, 'kernel');
writeFileSync(rootImage, 'root');

function inputs(over: { run?: number; memoryMb?: number; conf?: string; sizeMb?: number } = {}): SavedClusterInputs {
  const run = over.run ?? 1;
  return {
    machines: [1, 2, 3].map((node) => ({
      node,
      accel: 'tcg' as const,
      memoryMb: over.memoryMb,
      kernel,
      sharedDisks: [{ serial: 'leg0', file: `/runs/${run}/disks/leg0.img` }],
      sshPort: 20000 + run * 10 + node,
      hubPort: 30000 + run,
      clusterPort: 40000 + run * 10 + node,
    })),
    rootImage,
    disks: [{ serial: 'leg0', sizeMb: over.sizeMb ?? 64 }],
    corosyncConf: over.conf ?? 'totem { token: 3000 }',
    daemon: true,
  };
}

t.test('a saved cluster is found again by a run with other disk files and ports', async (t) => {
  t.equal(await savedClusterKey(inputs({ run: 1 })), await savedClusterKey(inputs({ run: 2 })));
});

t.test('what makes a bring-up differ makes the key differ', async (t) => {
  const base = await savedClusterKey(inputs());
  t.not(await savedClusterKey(inputs({ memoryMb: 1024 })), base, 'guest memory');
  t.not(await savedClusterKey(inputs({ conf: 'totem { token: 5000 }' })), base, 'corosync.conf');
  t.not(await savedClusterKey(inputs({ sizeMb: 128 })), base, 'a shared disk size');
  t.not(await savedClusterKey({ ...inputs(), machines: inputs().machines.slice(0, 2) }), base, 'the cluster size');
  writeFileSync(kernel, 'another kernel');
  t.not(await savedClusterKey(inputs()), base, 'a kernel rebuilt in place');
});
