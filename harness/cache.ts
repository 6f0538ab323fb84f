/**
 * Content-addressed build cache. A key is the hash of labelled inputs; an entry is
 * a directory that appears atomically (built under a temporary name, then renamed),
 * so an interrupted build never looks like a hit.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cacheRoot } from './paths.ts';

export type KeyPart = readonly [label: string, value: string | Buffer];

/** Labels are hashed with the values so that moving bytes from one input to another changes the key. */
export function cacheKey(parts: readonly KeyPart[]): string {
  const h = createHash('sha256');
  for (const [label, value] of parts) {
    const bytes = typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
    h.update(`${label}\0${bytes.length}\0`);
    h.update(bytes);
  }
  return h.digest('hex').slice(0, 24);
}

export function sha256(bytes: string | Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

export class CacheEntry {
  readonly dir: string;
  constructor(
    readonly kind: string,
    readonly key: string,
  ) {
    this.dir = join(cacheRoot(), kind, key);
  }

  /** Present only once complete: metadata.json is written last, inside the temporary directory. */
  isComplete(): boolean {
    return existsSync(join(this.dir, 'metadata.json'));
  }

  metadata<T>(): T {
    return JSON.parse(readFileSync(join(this.dir, 'metadata.json'), 'utf8')) as T;
  }

  path(name: string): string {
    return join(this.dir, name);
  }

  /** A fresh staging directory next to the entry; publish() moves it into place. */
  stage(): string {
    const staging = `${this.dir}.tmp-${process.pid}`;
    rmSync(staging, { recursive: true, force: true });
    mkdirSync(staging, { recursive: true });
    return staging;
  }

  publish(staging: string, metadata: object): void {
    writeFileSync(join(staging, 'metadata.json'), `${JSON.stringify(metadata, null, 2)}\n`);
    rmSync(this.dir, { recursive: true, force: true });
    renameSync(staging, this.dir);
  }
}
