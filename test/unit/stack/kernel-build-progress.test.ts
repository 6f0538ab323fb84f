import t from 'tap';
import { countBuildSteps, describeBuildProgress } from '../../../harness/stack/kernel/build-progress.ts';

t.test('a kernel build log counts its kbuild steps, not the other lines', async (t) => {
  const log = ['make[1]: Entering directory', '  CC      mm/filemap.o', '  AS      arch/x86/entry/entry_64.o', '  LD      vmlinux.o', 'mm/x.c:1: warning: y', '  CC      fs/open.o', '  LZ4     arch/x86/boot/compressed/vmlinux.bin.lz4'].join('\n');
  t.equal(countBuildSteps(log), 5);
  t.equal(countBuildSteps(''), 0);
});

t.test('progress says the share of the last build\'s steps, or only the count when none is cached', async (t) => {
  t.equal(describeBuildProgress(600, 1845, 252_000), '600 of about 1845 steps (32 %), 252.0s so far');
  t.equal(describeBuildProgress(2000, 1845, 600_000), '2000 of about 1845 steps (99 %), 600.0s so far');
  t.equal(describeBuildProgress(600, undefined, 1_000), '600 steps, 1.0s so far');
});
