/**
 * The Debian packages clogtest needs on the host, and why. `clogtest setup`
 * installs the missing ones; other commands only check for the tools.
 */
export const HOST_PACKAGES: ReadonlyArray<{ name: string; why: string }> = [
  { name: 'qemu-system-x86', why: 'runs the guests' },
  { name: 'qemu-utils', why: 'qemu-img makes copy-on-write overlays of the root image' },
  { name: 'build-essential', why: 'kernel and cmirrord builds' },
  { name: 'bc', why: 'kernel build' },
  { name: 'bison', why: 'kernel build (kconfig)' },
  { name: 'flex', why: 'kernel build (kconfig)' },
  { name: 'libelf-dev', why: 'kernel build (objtool)' },
  { name: 'libssl-dev', why: 'kernel build (certificates)' },
  { name: 'cpio', why: 'kernel build' },
  { name: 'xz-utils', why: 'unpacks the kernel source tarball' },
  { name: 'ccache', why: 'makes kernel rebuilds cheap' },
  { name: 'patch', why: 'applies kernel and daemon patches' },
  { name: 'debootstrap', why: 'builds the guest root filesystem' },
  { name: 'e2fsprogs', why: 'mkfs.ext4 -d builds the root image without mounting' },
  { name: 'dpkg-dev', why: '`apt-get source` (lvm2, a stack\'s kernel) unpacks with dpkg-source' },
  { name: 'pkg-config', why: 'cmirrord build' },
  { name: 'libcpg-dev', why: 'cmirrord build (corosync CPG)' },
  { name: 'libcorosync-common-dev', why: 'cmirrord build' },
  { name: 'libqb-dev', why: 'cmirrord build' },
  { name: 'libaio-dev', why: 'cmirrord build (libdm)' },
  { name: 'openssh-client', why: 'ssh-keygen makes the harness key for the guests' },
  { name: 'chromium', why: "make test opens a run's report.html in it, headless" },
];

/** Tools each stage needs, checked before the stage starts. */
export const TOOLS = {
  kernel: ['make', 'gcc', 'bison', 'flex', 'bc', 'patch', 'tar', 'xz', 'ccache'],
  image: ['debootstrap', 'mkfs.ext4', 'ssh-keygen', 'dpkg-source', 'patch', 'make', 'gcc', 'pkg-config'],
  vm: ['qemu-system-x86_64', 'qemu-img'],
} as const;

/**
 * deb-src entries that let `apt-get source` fetch the stacks' source packages (vm-images/stacks.yaml):
 * each is written only when no deb-src entry covers its suites yet. Sources only: no binary package ever
 * comes from unstable, and nothing on the host is upgraded.
 */
export const DEB_SRC_ENTRIES: ReadonlyArray<{ file: string; suites: readonly string[]; text: string }> = [
  {
    file: '/etc/apt/sources.list.d/clogtest-deb-src.sources',
    suites: ['bookworm', 'bookworm-updates'],
    text: `# Added by clogtest setup: cmirrord is built from Debian's lvm2 source package.
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
`,
  },
  {
    file: '/etc/apt/sources.list.d/clogtest-deb-src-unstable.sources',
    suites: ['unstable'],
    text: `# Added by clogtest setup: the stack "newest" builds unstable's linux and lvm2 source packages.
# Sources only (deb-src): no binary package comes from unstable.
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: unstable
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
`,
  },
];
