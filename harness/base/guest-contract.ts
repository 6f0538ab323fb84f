/**
 * The contract between the host side and the guest image: what the kernel command
 * line carries, how NICs are told apart, where things live inside a guest.
 * vm-images/guest/init reads the same keys; change both together.
 */

/** Guest init installed by the image recipe. */
export const GUEST_INIT = '/sbin/clogtest-init';

/** Management NIC: QEMU user-mode networking; the harness reaches sshd through a host-forwarded port. */
export const MGMT_IP = '10.0.2.15/24';
export const MGMT_GW = '10.0.2.2';

/** Cluster NIC on the harness hub; corosync binds here. Node ids start at 1. */
export function clusterIp(node: number): string {
  return `192.168.77.${node}`;
}
export const CLUSTER_PREFIX = 24;

export function mgmtMac(node: number): string {
  return `52:54:00:a0:00:${node.toString(16).padStart(2, '0')}`;
}
export function clusterMac(node: number): string {
  return `52:54:00:c1:00:${node.toString(16).padStart(2, '0')}`;
}

/** dm-log-userspace's resend timeout, whole seconds (kernel-patches/dm-log-userspace-retry-timeout-param.patch). */
export const LOG_RETRY_TIMEOUT_PARAM = '/sys/module/dm_log_userspace/parameters/retry_timeout_secs';

/** Shared disks appear in the guest as /dev/disk/by-id/virtio-<serial> (init makes the links, as udev would). */
export function sharedDiskPath(serial: string): string {
  return `/dev/disk/by-id/virtio-${serial}`;
}

/** Where guest-side logs go; the harness pulls this directory into the run directory. */
export const GUEST_LOG_DIR = '/var/log/clogtest';
/** Where a long-running command the harness streams leaves its session id, to be stopped by (Ssh.stream). */
export const GUEST_STREAM_DIR = '/run/clogtest/streams';
/** cmirrord's stdout and stderr, its SIGUSR1 state dumps included. */
export const CMIRRORD_LOG = `${GUEST_LOG_DIR}/cmirrord.log`;
/**
 * A coverage build of cmirrord writes its counters under this prefix (GCOV_PREFIX) followed by its build
 * directory's path; the kernel's are in debugfs under their build directory's path.
 */
export const GUEST_GCOV_DIR = '/var/lib/clogtest/gcov';
export const GUEST_KERNEL_GCOV_DIR = '/sys/kernel/debug/gcov';

export function kernelCommandLine(node: number, extra: readonly string[] = []): string {
  return [
    'console=ttyS0',
    'root=/dev/vda',
    'rw',
    'rootfstype=ext4',
    `init=${GUEST_INIT}`,
    'panic=-1',
    // Under TCG a busy host makes the clocksource watchdog misjudge the TSC and switch the guest to a
    // clock that loses ticks (seen: wall clocks 20 % slow, seconds apart between guests). QEMU's TSC
    // follows the host's, so it is kept; kernel-patches/config/clogtest.config adds the HPET it is
    // calibrated against.
    'tsc=reliable',
    // Interrupt routing from the BIOS's table instead of ACPI: evaluating each PCI link's AML under TCG
    // took a second or more (LNKA..LNKD: ~5 s of a 10 s boot). ACPI stays on for the HPET.
    'acpi=noirq',
    // The request and leg-write trace marked-before-write judges (kernel-patches/dm-log-userspace-trace-param.patch),
    // kept off the console at KERN_DEBUG; the ring buffer holds a whole case's trace (about 150 bytes a line).
    'dm_log_userspace.trace=1',
    'dm_mirror.trace=1',
    'log_buf_len=32M',
    `clogtest.node=${node}`,
    `clogtest.hostname=node${node}`,
    `clogtest.mgmt_mac=${mgmtMac(node)}`,
    `clogtest.mgmt_ip=${MGMT_IP}`,
    `clogtest.mgmt_gw=${MGMT_GW}`,
    `clogtest.cluster_mac=${clusterMac(node)}`,
    `clogtest.cluster_ip=${clusterIp(node)}/${CLUSTER_PREFIX}`,
    ...extra,
  ].join(' ');
}
