import t from 'tap';
import { describeMismatches, parseFragment, verifyConfig } from '../../../harness/stack/kernel/config.ts';
import { compilerErrors, projectFragments } from '../../../harness/stack/kernel/build.ts';
import { loadFragment } from '../../../harness/stack/kernel/config.ts';

const dotConfig = `CONFIG_NET=y
# CONFIG_NET is not set comment lines are ignored
CONFIG_LOG_BUF_SHIFT=17
# CONFIG_DEBUG_KERNEL is not set
CONFIG_CMDLINE="x y"
`;

t.test('fragment parsing keeps file and line', async (t) => {
  const req = parseFragment('# c\nCONFIG_NET=y\n\n# CONFIG_SMP is not set\n', 'f.config');
  t.same(req, [
    { option: 'CONFIG_NET', value: 'y', file: 'f.config', line: 2 },
    { option: 'CONFIG_SMP', value: 'n', file: 'f.config', line: 4 },
  ]);
});

t.test('fragment: garbage and =m are input errors with file:line', async (t) => {
  t.throws(() => parseFragment('CONFIG_NET=y\nNET=y\n', 'f.config'), { message: 'f.config:2: not a config line: "NET=y"' });
  t.throws(() => parseFragment('CONFIG_DM_MIRROR=m\n', 'f.config'), { message: /f\.config:1: CONFIG_DM_MIRROR=m: clogtest kernels have no modules/ });
});

t.test('verification passes when every value is kept', async (t) => {
  const req = parseFragment('CONFIG_NET=y\nCONFIG_LOG_BUF_SHIFT=17\n# CONFIG_DEBUG_KERNEL is not set\nCONFIG_CMDLINE="x y"\n', 'f');
  t.same(verifyConfig(req, dotConfig), []);
});

t.test('a dropped option is reported by name, value and origin', async (t) => {
  const req = parseFragment('CONFIG_NET=y\nCONFIG_DM_LOG_USERSPACE=y\nCONFIG_LOG_BUF_SHIFT=14\n', 'frag.config');
  const m = verifyConfig(req, dotConfig);
  t.same(
    m.map((x) => [x.option, x.value, x.got, x.line]),
    [
      ['CONFIG_DM_LOG_USERSPACE', 'y', 'n', 2],
      ['CONFIG_LOG_BUF_SHIFT', '14', '17', 3],
    ],
  );
  const text = describeMismatches(m);
  t.match(text, /CONFIG_DM_LOG_USERSPACE=y \(frag\.config:2\) was dropped/);
  t.match(text, /CONFIG_LOG_BUF_SHIFT=14 \(frag\.config:3\) became 17/);
});

t.test('a later fragment overrides an earlier one', async (t) => {
  const req = [...parseFragment('CONFIG_NET=n\n', 'a'), ...parseFragment('CONFIG_NET=y\n', 'b')];
  t.same(verifyConfig(req, dotConfig), []);
});

t.test('the project fragment asks for what the system under test needs', async (t) => {
  const opts = new Set(projectFragments().flatMap((f) => loadFragment(f)).filter((r) => r.value === 'y').map((r) => r.option));
  for (const o of ['CONFIG_DM_LOG_USERSPACE', 'CONFIG_DM_MIRROR', 'CONFIG_CONNECTOR', 'CONFIG_BLK_DEV_DM', 'CONFIG_MD', 'CONFIG_DM_FLAKEY', 'CONFIG_DM_DELAY', 'CONFIG_VIRTIO_BLK', 'CONFIG_VIRTIO_NET', 'CONFIG_VIRTIO_PCI', 'CONFIG_SERIAL_8250_CONSOLE', 'CONFIG_EXT4_FS', 'CONFIG_TMPFS', 'CONFIG_MAGIC_SYSRQ', 'CONFIG_DETECT_HUNG_TASK']) {
    t.ok(opts.has(o), o);
  }
});

t.test('a failed build names the compiler errors, not just the last lines', async (t) => {
  const log = 'CC a.o\n../src/drivers/md/x.c:191:31: error: expected declaration specifiers\nmake[4]: *** Error 1\nCC hid.o\n';
  t.same(compilerErrors(log), ['../src/drivers/md/x.c:191:31: error: expected declaration specifiers']);
});
