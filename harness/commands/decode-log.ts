import { open } from 'node:fs/promises';
import { InputError } from '../base/errors.ts';
import { BITMAP_OFFSET, HEADER_BYTES, LOG_MAGIC, cmirrordLogBytes, inspectDiskLog, ranges } from '../oracle/disk-log.ts';
import { defineCommand, intOption } from './command.ts';

/** A bitmap past this would be billions of regions: a garbage header, not a log worth reading. */
const MAX_READ = 1 << 30;

/** The log's first bytes: the header, then as much as cmirrord itself reads, or the whole file if shorter. */
async function readLog(file: string): Promise<Buffer> {
  let fh;
  try {
    fh = await open(file, 'r');
  } catch (err) {
    throw new InputError(`decode-log: cannot open ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  try {
    const readUpTo = async (want: number) => {
      const buf = Buffer.alloc(want);
      let got = 0;
      for (let n = -1; got < want && n !== 0; got += n) n = (await fh.read(buf, got, want - got, got)).bytesRead;
      return buf.subarray(0, got);
    };
    const head = await readUpTo(HEADER_BYTES);
    if (head.length < HEADER_BYTES || head.readUInt32LE(0) !== LOG_MAGIC) return head;
    const regions = head.readBigUInt64LE(8);
    const need = BigInt(cmirrordLogBytes(Number(regions)));
    if (regions > BigInt(MAX_READ) * 8n || need > BigInt(MAX_READ)) {
      throw new InputError(`decode-log: ${file}: header claims ${regions} regions, a bitmap of over ${MAX_READ} bytes`);
    }
    return readUpTo(Math.max(Number(need), BITMAP_OFFSET));
  } finally {
    await fh.close();
  }
}

export default defineCommand({
  name: 'decode-log',
  summary: "print a mirror log device's header and its dirty/out-of-sync regions",
  help: `usage: clogtest decode-log FILE [--regions N] [--json]

Decodes the clustered-disk log cmirrord keeps on its log device (a copy of the device,
or the device itself): magic, version, region count, how many regions are clean
(bit 1, in sync) and dirty (bit 0, dirty or out of sync), and the dirty ones as ranges.

  --regions N   the region count the mirror's table implies; a header that disagrees is an error
  --json        one JSON object instead of text

Exit 2 with every problem found (bad magic, unsupported version, region count mismatch,
bitmap longer than the file, bits set past the last region) when FILE is not a valid log.`,
  options: { regions: { type: 'string' }, json: { type: 'boolean' } },
  allowPositionals: true,
  async run(values, positionals) {
    if (positionals.length !== 1) throw new InputError('decode-log: give exactly one FILE (see `clogtest decode-log --help`)');
    const file = positionals[0]!;
    const expectedRegions = values.regions === undefined ? undefined : intOption('regions', values.regions, 0, 1, 2 ** 32 - 1);
    const { log, problems } = inspectDiskLog(await readLog(file), { expectedRegions });
    if (problems.length || !log) throw new InputError(`decode-log: ${file} is not a valid mirror log: ${problems.join('; ')}`);
    const dirty = ranges(log.dirtyRegions);
    const hex = `0x${log.magic.toString(16).toUpperCase()}`;
    if (values.json) {
      const out = { file, magic: hex, version: log.version, regions: log.regions, clean: log.cleanCount,
        dirty: log.dirtyRegions.length, dirtyRanges: dirty, dirtyRegions: log.dirtyRegions };
      process.stdout.write(`${JSON.stringify(out)}\n`);
      return 0;
    }
    process.stdout.write(
      [
        `file:     ${file}`,
        `magic:    ${hex} ("MiRr")`,
        `version:  ${log.version}`,
        `regions:  ${log.regions}`,
        `clean:    ${log.cleanCount}`,
        `dirty:    ${log.dirtyRegions.length}${dirty ? ` (dirty or out of sync: ${dirty})` : ''}`,
      ].join('\n') + '\n',
    );
    return 0;
  },
});
