/**
 * `clogtest image`: root filesystem + cmirrord + guest files -> root.img and the
 * harness's SSH key, cached under images/KEY. The rootfs and cmirrord are cache
 * entries of their own (keyed by what makes them), built concurrently on a miss:
 * one waits on the network, the other on the compiler.
 */
import { appendFileSync, existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { buildFailure, CacheEntry, cacheKey, withBuildLock, WORK_DIR, type KeyPart, type Built } from '../cache.ts';
import { requireTools } from '../../base/proc.ts';
import { cacheRoot } from '../../base/paths.ts';
import { progress, seconds, stage, type Progress } from '../../base/progress.ts';
import type { PatchRef } from '../patch.ts';
import { TOOLS } from '../host/packages.ts';
import { commandLinePatches } from '../kernel/series.ts';
import { stackNamed } from '../stacks.ts';
import { loadPackages, recipeParts } from './recipe.ts';
import { ensureRootfs, rootfsKey } from './rootfs.ts';
import { ensureCmirrord, planCmirrord, type CmirrordPlan } from './cmirrord.ts';
import { keptNotes, type BuildCoverage } from '../coverage.ts';
import { GUEST_CMIRRORD, GUEST_LIBDEVMAPPER, copyRootfs, customize, makeClientKey, makeExt4, verifyCmirrord } from './assemble.ts';

/** Bump when the assembly procedure changes in a way that changes the image. */
export const IMAGE_RECIPE = '1';

export interface ImageOptions {
  /** A stack of vm-images/stacks.yaml (default: the first): its lvm2 source. */
  stack?: string;
  daemonPatches?: string[];
  daemonTree?: string;
  /** cmirrord compiled with gcov (stack/coverage.ts). */
  coverage?: boolean;
  force?: boolean;
  say?: Progress;
}

export interface Image extends Built {
  rootImage: string;
  sshKey: string;
  /** The notes of a coverage build of cmirrord. */
  coverage?: BuildCoverage;
}

export interface ImageInputs {
  recipe: readonly KeyPart[];
  rootfsKey: string;
  cmirrordKey: string;
  patches: readonly PatchRef[];
}

export function imageKey(inputs: ImageInputs): string {
  const parts: KeyPart[] = [
    ['image recipe', IMAGE_RECIPE],
    ...inputs.recipe,
    ['rootfs', inputs.rootfsKey],
    ['cmirrord', inputs.cmirrordKey],
  ];
  inputs.patches.forEach((p, i) => parts.push([`daemon patch ${i} -p${p.strip}`, readFileSync(p.file)]));
  return cacheKey(parts);
}

function image(entry: CacheEntry, plan: CmirrordPlan, cached: boolean): Image {
  const notes = keptNotes(plan.entry.dir);
  return { key: entry.key, dir: entry.dir, rootImage: entry.path('root.img'), sshKey: entry.path('id_ed25519'), cached, ...(notes ? { coverage: notes } : {}) };
}

/** The image's build.log tells the whole story, even when the parts came from the cache. */
function appendSubLogs(log: string, logs: readonly string[]): void {
  for (const sub of logs) {
    appendFileSync(log, existsSync(sub) ? `==> ${sub}\n${readFileSync(sub, 'utf8')}\n` : `==> ${sub}: missing\n`);
  }
}

/** Both settle before either error is thrown, so no build keeps running under a deleted work directory. */
async function both<A, B>(a: Promise<A>, b: Promise<B>): Promise<[A, B]> {
  const [ra, rb] = await Promise.allSettled([a, b]);
  if (ra.status === 'rejected') throw ra.reason;
  if (rb.status === 'rejected') throw rb.reason;
  return [ra.value, rb.value];
}

export interface ImagePlan {
  key: string;
  entry: CacheEntry;
  packages: string[];
  patches: PatchRef[];
  plan: CmirrordPlan;
}

/** Everything that names the image, without building: cheap enough for every cache hit and --print-key. */
export async function planImage(opts: ImageOptions = {}): Promise<ImagePlan> {
  const say = opts.say ?? progress;
  requireTools(...TOOLS.image);
  const packages = loadPackages();
  const patches = commandLinePatches(opts.daemonPatches ?? [], '--daemon-patch');
  const plan = await planCmirrord({ lvm2: stackNamed(opts.stack).lvm2, daemonTree: opts.daemonTree, patches, coverage: opts.coverage, say });
  const key = imageKey({ recipe: recipeParts(), rootfsKey: rootfsKey(packages), cmirrordKey: plan.key, patches: plan.patches });
  return { key, entry: new CacheEntry('images', key), packages, patches, plan };
}

export async function ensureImage(opts: ImageOptions = {}): Promise<Image> {
  const say = opts.say ?? progress;
  const { key, entry, packages, patches, plan } = await planImage(opts);
  say(`image ${key}: Debian bookworm + ${packages.length} packages, cmirrord ${plan.key} from ${plan.source.description}, ${patches.length} daemon patch(es)`);
  const hit = (): Image => {
    say(`cache hit: ${entry.dir}`);
    return image(entry, plan, true);
  };
  if (entry.isComplete() && !opts.force) return hit();
  return withBuildLock(`image ${key}`, say, async () => {
    if (entry.isComplete() && !opts.force) return hit();
    return buildImage({ key, entry, packages, plan, opts, say });
  });
}

async function buildImage({ key, entry, packages, plan, opts, say }: {
  key: string;
  entry: CacheEntry;
  packages: string[];
  plan: CmirrordPlan;
  opts: ImageOptions;
  say: Progress;
}): Promise<Image> {

  const started = Date.now();
  const staging = entry.stage();
  const log = join(staging, 'build.log');
  const work = join(cacheRoot(), WORK_DIR, `image-${key}`);
  const root = join(work, 'root');
  mkdirSync(work, { recursive: true });
  try {
    // The rootfs waits for the patches to apply, so a bad patch fails in seconds, not after debootstrap.
    let patched = () => {};
    const patchesApplied = new Promise<void>((resolve) => (patched = resolve));
    const cmirrordBuild = ensureCmirrord(plan, say, opts.force, patched);
    const rootfsBuild = Promise.race([patchesApplied, cmirrordBuild]).then(() => ensureRootfs(packages, say, opts.force));
    const [rootfs, cmirrord] = await both(rootfsBuild, cmirrordBuild);
    say(`rootfs ${rootfs.key} (${rootfs.cached ? 'cached' : 'built'}), cmirrord ${cmirrord.key} (${cmirrord.cached ? 'cached' : 'built'})`);
    appendSubLogs(log, [rootfs.log, cmirrord.log]);
    await stage('copy rootfs', () => copyRootfs(rootfs.dir, root, log), say);
    const client = await makeClientKey(staging, log);
    await stage('install guest files, keys and cmirrord', () => customize(root, { cmirrord, clientPub: client.pub, logFile: log }), say);
    await stage(`check ${GUEST_CMIRRORD} runs in the guest tree`, () => verifyCmirrord(root, log), say);
    await stage('mkfs.ext4 root.img', () => makeExt4(root, join(staging, 'root.img'), log), say);
    entry.publish(staging, {
      key,
      recipe: IMAGE_RECIPE,
      rootfs: rootfs.key,
      cmirrord: { key: cmirrord.key, description: cmirrord.description, guestPath: GUEST_CMIRRORD, library: GUEST_LIBDEVMAPPER },
      daemonPatches: plan.patches.map((p) => p.file),
      daemonTree: opts.daemonTree ?? null,
    }, started);
  } catch (err) {
    throw buildFailure(err, 'image', staging, log);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  say(`image ready in ${seconds(Date.now() - started)}: ${entry.dir}`);
  return image(entry, plan, false);
}
