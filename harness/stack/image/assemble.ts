/**
 * Turns a copy of the cached root filesystem into the guest: clogtest's init, the
 * overlay files, fresh SSH host keys, the harness key, cmirrord and its library; then
 * checks that cmirrord runs there and packs the tree with `mkfs.ext4 -d` (no mounting).
 */
import { appendFileSync, chmodSync, copyFileSync, existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { GUEST_INIT, GUEST_LOG_DIR } from '../../base/guest-contract.ts';
import { InfraError } from '../../base/errors.ts';
import { run } from '../../base/proc.ts';
import { GUEST_DIR, VM_IMAGES } from './recipe.ts';
import { LIBDEVMAPPER, type Cmirrord } from './cmirrord.ts';

export const GUEST_CMIRRORD = '/usr/sbin/cmirrord';
export const GUEST_LIBDEVMAPPER = `/usr/local/lib/${LIBDEVMAPPER}`;
/** Files under vm-images/overlay/ land at the same path in the guest. */
export const OVERLAY_DIR = join(VM_IMAGES, 'overlay');
export const IMAGE_SIZE = '1536M';
export const IMAGE_LABEL = 'clogroot';

function inRoot(root: string, guestPath: string): string {
  return join(root, guestPath.replace(/^\/+/, ''));
}

function install(from: string, root: string, guestPath: string, mode: number): void {
  const to = inRoot(root, guestPath);
  mkdirSync(join(to, '..'), { recursive: true });
  copyFileSync(from, to);
  chmodSync(to, mode);
}

/** The harness's client key pair, made once per image; the guest trusts only its public half. */
export async function makeClientKey(dir: string, logFile: string): Promise<{ key: string; pub: string }> {
  const key = join(dir, 'id_ed25519');
  rmSync(key, { force: true });
  rmSync(`${key}.pub`, { force: true });
  await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'clogtest-harness', '-f', key], { logFile });
  return { key, pub: `${key}.pub` };
}

export async function copyRootfs(from: string, to: string, logFile: string): Promise<void> {
  rmSync(to, { recursive: true, force: true });
  mkdirSync(join(to, '..'), { recursive: true });
  await run('cp', ['-a', from, to], { logFile, timeoutMs: 10 * 60_000 });
}

export async function customize(root: string, opts: { cmirrord: Cmirrord; clientPub: string; logFile: string }): Promise<void> {
  install(join(GUEST_DIR, 'init'), root, GUEST_INIT, 0o755);
  await run('cp', ['-a', '--no-preserve=ownership', `${OVERLAY_DIR}/.`, `${root}/`], { logFile: opts.logFile });
  writeFileSync(inRoot(root, '/etc/hostname'), 'clogtest\n');
  writeFileSync(inRoot(root, '/etc/hosts'), '127.0.0.1\tlocalhost\n::1\t\tlocalhost ip6-localhost ip6-loopback\n');
  mkdirSync(inRoot(root, GUEST_LOG_DIR), { recursive: true });

  // Host keys from the shared rootfs would be the same in every image; each image gets its own.
  const sshDir = inRoot(root, '/etc/ssh');
  for (const f of readdirSync(sshDir).filter((f) => f.startsWith('ssh_host_'))) rmSync(join(sshDir, f));
  await run('ssh-keygen', ['-A', '-f', root], { logFile: opts.logFile });
  const dotSsh = inRoot(root, '/root/.ssh');
  mkdirSync(dotSsh, { recursive: true, mode: 0o700 });
  chmodSync(dotSsh, 0o700);
  install(opts.clientPub, root, '/root/.ssh/authorized_keys', 0o600);

  install(opts.cmirrord.binary, root, GUEST_CMIRRORD, 0o755);
  install(opts.cmirrord.library, root, GUEST_LIBDEVMAPPER, 0o755);
  await run('chroot', [root, '/sbin/ldconfig'], { logFile: opts.logFile });
}

/** Runs the installed cmirrord inside the tree, so a missing library fails the build, not the first test. */
export async function verifyCmirrord(root: string, logFile: string): Promise<void> {
  // No logFile here: run() only buffers output it does not log, and the output is what is checked.
  const ldd = await run('chroot', [root, '/usr/bin/ldd', GUEST_CMIRRORD], { allowFailure: true });
  const help = await run('chroot', [root, GUEST_CMIRRORD, '--help'], { allowFailure: true });
  const out = `${ldd.stdout}\n${ldd.stderr}\n${help.stdout}\n${help.stderr}`;
  appendFileSync(logFile, `$ chroot ROOT ldd ${GUEST_CMIRRORD}; ${GUEST_CMIRRORD} --help\n${out}\n`);
  if (help.exitCode !== 0 || !/Usage: cmirrord/.test(out) || /not found/.test(ldd.stdout)) {
    throw new InfraError(`cmirrord does not run in the guest tree (exit ${help.exitCode}):\n${out.trim()}`);
  }
  if (!new RegExp(`${LIBDEVMAPPER.replace(/\./g, '\\.')} => /usr/local/lib/`).test(ldd.stdout)) {
    throw new InfraError(`cmirrord in the guest tree does not load ${GUEST_LIBDEVMAPPER}:\n${ldd.stdout.trim()}`);
  }
}

export async function makeExt4(root: string, image: string, logFile: string): Promise<void> {
  rmSync(image, { force: true });
  await run('mkfs.ext4', ['-q', '-F', '-d', root, '-L', IMAGE_LABEL, image, IMAGE_SIZE], { logFile, timeoutMs: 15 * 60_000 });
  if (!existsSync(image)) throw new InfraError(`mkfs.ext4 did not create ${image}`);
}
