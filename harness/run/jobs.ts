/**
 * How many cases `clogtest run --jobs` runs at once by default: as many clusters as the host has a core
 * for every guest and three quarters of its memory for every guest's RAM, and at least one. Each guest is
 * one QEMU vCPU thread, busy for most of a case under TCG; a guest starved of CPU misses corosync tokens
 * and makes membership changes nobody caused, so cores are never shared between clusters by default.
 */
export interface HostCapacity {
  cores: number;
  memoryBytes: number;
}

export function defaultJobs(host: HostCapacity, nodesPerCluster: number, guestMemoryMb: number): { jobs: number; why: string } {
  const byCores = Math.floor(host.cores / nodesPerCluster);
  const byMemory = Math.floor((0.75 * host.memoryBytes) / (nodesPerCluster * guestMemoryMb * 1024 * 1024));
  const jobs = Math.max(1, Math.min(byCores, byMemory));
  const why = `${host.cores} cores and ${Math.round(host.memoryBytes / 2 ** 30)} GiB for clusters of ${nodesPerCluster} guests of ${guestMemoryMb} MiB: ${byCores} by cores, ${byMemory} by memory`;
  return { jobs, why };
}

/**
 * Runs each item through work, at most `jobs` at a time, in order of index; returns one promise per item,
 * so a caller can report them in order while later ones still run. An item gives its place to the next
 * when its work ends or when it calls `release` (a case whose cluster is gone, still being judged).
 */
export function inPool<T, R>(items: readonly T[], jobs: number, work: (item: T, index: number, release: () => void) => Promise<R>): Array<Promise<R>> {
  const settle: Array<{ resolve: (r: R) => void; reject: (e: unknown) => void }> = [];
  const promises = items.map(() => new Promise<R>((resolve, reject) => settle.push({ resolve, reject })));
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      let release!: () => void;
      const released = new Promise<void>((r) => (release = r));
      const done = work(items[i]!, i, release).then(settle[i]!.resolve, settle[i]!.reject);
      await Promise.race([done, released]);
    }
  };
  for (let w = 0; w < Math.min(jobs, items.length); w++) void worker();
  // A later item may fail before the caller awaits it; Node would end the process on that unhandled
  // rejection. The caller still sees the failure where it awaits the promise.
  for (const p of promises) p.catch(() => {});
  return promises;
}
