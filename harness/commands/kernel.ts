import type { parseArgs } from 'node:util';
import { ensureKernel, planKernel, type KernelOptions } from '../stack/kernel/index.ts';
import { withFixes } from '../stack/fixes.ts';
import { defineCommand, FIXES_HELP } from './command.ts';

export const kernelOptions = {
  stack: { type: 'string' },
  'kernel-tree': { type: 'string' },
  'kernel-image': { type: 'string' },
  'kernel-patch': { type: 'string', multiple: true },
  'config-fragment': { type: 'string', multiple: true },
  fixes: { type: 'boolean' },
} as const;

/** Apart, so that a command whose --stack takes more (run: several stacks) can say it once, its own way. */
export const stackOptionHelp = `  --stack NAME             the stack of vm-images/stacks.yaml to build (default: its first,
                           debian-12): the kernel and lvm2 sources it pins and its forms of
                           the series' patches (\`clogtest stacks\` lists them)`;

export const kernelOptionsHelp = `${stackOptionHelp}
  --kernel-tree PATH       build a kernel git tree (HEAD + uncommitted changes) instead of
                           the stack's kernel source; the tree itself is never written to
  --kernel-image PATH      use this bzImage as it is: no build
  --kernel-patch FILE      apply FILE after kernel-patches/series (repeatable)
  --config-fragment FILE   merge FILE after kernel-patches/config/*.config (repeatable)
${FIXES_HELP}`;

/** The kernel build the kernel options ask for (a cluster's, or `clogtest kernel`'s). */
export function kernelOptionsFrom(values: ReturnType<typeof parseArgs<{ options: typeof kernelOptions; strict: true }>>['values']): KernelOptions {
  return {
    stack: values.stack,
    kernelTree: values['kernel-tree'],
    kernelImage: values['kernel-image'],
    kernelPatches: withFixes(values['kernel-patch'], values.fixes, 'kernel'),
    configFragments: values['config-fragment'],
  };
}

export default defineCommand({
  name: 'kernel',
  summary: 'build (or find in the cache) the patched guest kernel',
  help: `usage: clogtest kernel [OPTIONS]

Builds an x86_64 bzImage from a stack's kernel source (default: Debian 12's linux-source-6.1):
tinyconfig plus kernel-patches/config/*.config, every option built in, after applying
kernel-patches/series (in the stack's form of a patch where it names one). Every option a fragment asks
for is verified in the final .config. The result is cached under
\${CLOGTEST_CACHE:-~/.cache/clogtest}/kernels/KEY/ (bzImage, .config, build.log,
metadata.json), KEY being the hash of the source (the stack's pinned package and version),
patches, fragments and compiler.

Options:
${kernelOptionsHelp}
  --coverage               the build \`run --coverage\` uses: gcov for the mirror log's files
                           (kernel-patches/coverage/), cached under a key of its own
  --force                  rebuild even on a cache hit
  --print-key              print the KEY only, build nothing (for CI cache keys)

Exit 2 when a patch does not apply or kconfig drops a requested option.`,
  options: { ...kernelOptions, coverage: { type: 'boolean' }, force: { type: 'boolean' }, 'print-key': { type: 'boolean' } },
  async run(values) {
    const coverage = values.coverage ?? false;
    if (values['print-key']) {
      const plan = await planKernel({ ...kernelOptionsFrom(values), coverage, say: () => {} });
      process.stdout.write(`${plan.key}\n`);
      return 0;
    }
    const kernel = await ensureKernel({ ...kernelOptionsFrom(values), coverage, force: values.force });
    process.stdout.write(`${kernel.bzImage}\n`);
    return 0;
  },
});
