import { ensureImage, planImage } from '../stack/image/index.ts';
import { withFixes } from '../stack/fixes.ts';
import { defineCommand, FIXES_HELP } from './command.ts';

export const imageOptions = {
  stack: { type: 'string' },
  'daemon-patch': { type: 'string', multiple: true },
  'daemon-tree': { type: 'string' },
  fixes: { type: 'boolean' },
} as const;

export const imageOptionsHelp = `  --daemon-patch FILE      apply FILE (patch -p1) to the lvm2 source before building
                           cmirrord (repeatable, in order); a fresh copy is patched each time
  --daemon-tree PATH       build cmirrord from an lvm2 git checkout (HEAD + uncommitted changes
                           to tracked files) instead of the stack's lvm2 source; PATH is never written to`;

/** imageOptionsHelp with --stack and --fixes, for the image command alone (the kernel options say them for a cluster). */
const imageHelp = `  --stack NAME             the stack of vm-images/stacks.yaml whose lvm2 source cmirrord is
                           built from (default: its first, debian-12; \`clogtest stacks\` lists them)
${imageOptionsHelp}\n${FIXES_HELP}`;

export default defineCommand({
  name: 'image',
  summary: 'build (or find in the cache) the guest root image with cmirrord',
  help: `usage: clogtest image [OPTIONS]

Builds the guest's ext4 root image: Debian bookworm (debootstrap minbase plus
vm-images/packages.txt), clogtest's init (vm-images/guest/init as /sbin/clogtest-init),
the files under vm-images/overlay/, sshd with fresh host keys and a new harness key,
and cmirrord built from a stack's lvm2 source (default: Debian 12's) with its own
libdevmapper.so.1.02.
The result is cached under \${CLOGTEST_CACHE:-~/.cache/clogtest}/images/KEY/ (root.img,
id_ed25519, id_ed25519.pub, build.log, metadata.json), KEY being the hash of vm-images/,
the package list, the lvm2 source, the daemon patches and the compiler. The root
filesystem and cmirrord are cached separately (rootfs/, cmirrord/), so changing one
does not rebuild the other. Prints the KEY and the image directory on stdout.

Options:
${imageHelp}
  --coverage               the image \`run --coverage\` uses: cmirrord built with gcov
                           (vm-images/coverage/), cached under a key of its own
  --force                  rebuild the root filesystem, cmirrord and the image even on a cache hit
  --print-key              print the KEY only, build nothing (for CI cache keys)

Exit 2 when a daemon patch does not apply or an option names a missing file or tree.`,
  options: { ...imageOptions, coverage: { type: 'boolean' }, force: { type: 'boolean' }, 'print-key': { type: 'boolean' } },
  async run(values) {
    const coverage = values.coverage ?? false;
    if (values['print-key']) {
      const plan = await planImage({ stack: values.stack, daemonPatches: withFixes(values['daemon-patch'], values.fixes, 'daemon'), daemonTree: values['daemon-tree'], coverage, say: () => {} });
      process.stdout.write(`${plan.key}\n`);
      return 0;
    }
    const image = await ensureImage({
      stack: values.stack,
      daemonPatches: withFixes(values['daemon-patch'], values.fixes, 'daemon'),
      daemonTree: values['daemon-tree'],
      coverage,
      force: values.force,
    });
    process.stdout.write(`${image.key} ${image.dir}\n`);
    return 0;
  },
});
