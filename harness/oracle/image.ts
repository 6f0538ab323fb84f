/**
 * Random access to a disk image: a leg file, a read-through-mirror image, or a Buffer in a test.
 * Legs are as large as the mirror, so they are read piecewise through a file handle, never whole.
 */
import { open, type FileHandle } from 'node:fs/promises';

/** A file (optionally a window of it starting at `offset`) or bytes already in memory. */
export type ImageSource = Buffer | { path: string; offset?: number; length?: number };

export interface Image {
  label: string;
  length: number;
  /** Exactly `length` bytes at `offset` of the image; throws rather than return a short read. */
  read(offset: number, length: number): Promise<Buffer>;
  close(): Promise<void>;
}

export async function openImage(source: ImageSource, label: string): Promise<Image> {
  if (Buffer.isBuffer(source)) {
    return {
      label,
      length: source.length,
      async read(offset, length) {
        if (offset < 0 || offset + length > source.length) {
          throw new RangeError(`${label}: read of ${length} bytes at ${offset} is past its end (${source.length} bytes)`);
        }
        return source.subarray(offset, offset + length);
      },
      async close() {},
    };
  }
  const base = source.offset ?? 0;
  let fh: FileHandle;
  try {
    fh = await open(source.path, 'r');
  } catch (err) {
    throw new Error(`${label}: cannot open ${source.path}: ${(err as Error).message}`);
  }
  const size = (await fh.stat()).size;
  const length = source.length ?? size - base;
  if (base < 0 || base + length > size) {
    await fh.close();
    throw new RangeError(`${label}: ${source.path} is ${size} bytes, too short for ${length} bytes at offset ${base}`);
  }
  return {
    label,
    length,
    async read(offset, want) {
      if (offset < 0 || offset + want > length) {
        throw new RangeError(`${label}: read of ${want} bytes at ${offset} is past its end (${length} bytes)`);
      }
      const buf = Buffer.alloc(want);
      let got = 0;
      while (got < want) {
        const { bytesRead } = await fh.read(buf, got, want - got, base + offset + got);
        if (bytesRead === 0) throw new Error(`${label}: ${source.path} ended at ${base + offset + got} (file shrank?)`);
        got += bytesRead;
      }
      return buf;
    },
    close: () => fh.close(),
  };
}

/** Opens every source, runs `body`, and closes them all whatever happens. */
export async function withImages<T>(
  sources: ReadonlyArray<{ source: ImageSource; label: string }>,
  body: (images: Image[]) => Promise<T>,
): Promise<T> {
  const images: Image[] = [];
  try {
    for (const s of sources) images.push(await openImage(s.source, s.label));
    return await body(images);
  } finally {
    await Promise.allSettled(images.map((i) => i.close()));
  }
}
