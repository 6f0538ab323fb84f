#!/usr/bin/env python3
"""Guest-side block writer/reader for clogtest.

Writes blocks in the format of harness/oracle/block-header.ts (that file's comment is the format's
definition; test/unit/oracle-block-header.test.ts checks this encoder against it byte for byte) and logs
every write as JSON lines: a "write-start" line before the write is issued and a "write" line after it was
acknowledged, so the oracle can tell acknowledged writes from ones in flight at a crash. --read reads
blocks and logs which write each one held.

Uses only modules in Debian's python3-minimal (no json: lines are formatted here).
"""

import argparse
import binascii
import errno
import os
import random
import struct
import sys
import threading
import time

BLOCK_MAGIC = b"CLOGBLK1"
STAMP_TAG = b"clogsect"
HEADER_BYTES = 64
STAMP_BYTES = 32
SECTOR_BYTES = 512


def stamp(node, seq, offset, run_id, sector):
    return STAMP_TAG + struct.pack("<QQIHH", seq, offset, run_id, node, sector)


def encode_block(node, seq, offset, run_id, size):
    parts = []
    for sector in range(size // SECTOR_BYTES):
        n = SECTOR_BYTES // STAMP_BYTES - (HEADER_BYTES // STAMP_BYTES if sector == 0 else 0)
        parts.append(stamp(node, seq, offset, run_id, sector) * n)
    payload = b"".join(parts)
    head = BLOCK_MAGIC + struct.pack("<HHIQQII", node, 0, run_id, seq, offset, size, binascii.crc32(payload))
    head += bytes(60 - len(head))
    head += struct.pack("<I", binascii.crc32(head))
    return head + payload


def decode_block(buf, offset):
    """(kind, (node, seq, run) or None, why); kinds as decodeBlock in block-header.ts, without sector detail."""
    if buf.count(0) == len(buf):
        return "empty", None, ""
    if buf[0:8] != BLOCK_MAGIC:
        return "foreign", None, "no magic, first bytes " + buf[0:8].hex()
    node, _, run_id, seq, written_at, size, payload_crc = struct.unpack_from("<HHIQQII", buf, 8)
    (header_crc,) = struct.unpack_from("<I", buf, 60)
    found = (node, seq, run_id)
    if binascii.crc32(buf[0:60]) != header_crc:
        return "torn", None, "header checksum mismatch"
    if size != len(buf):
        return "torn", found, "header says block size %d, read %d" % (size, len(buf))
    if written_at != offset:
        return "torn", found, "written for offset %d, found at offset %d" % (written_at, offset)
    if binascii.crc32(buf[HEADER_BYTES:]) != payload_crc:
        return "torn", found, "payload checksum mismatch"
    return "valid", found, ""


def json_line(fields):
    def value(v):
        if v is None:
            return "null"
        if isinstance(v, int):
            return str(v)
        if isinstance(v, dict):
            return json_line(v)
        return '"' + str(v).replace("\\", "\\\\").replace('"', '\\"') + '"'

    return "{" + ",".join('"%s":%s' % (k, value(v)) for k, v in fields.items()) + "}"


def parse_list(text):
    out = []
    for part in text.split(","):
        if "-" in part:
            lo, hi = part.split("-", 1)
            out.extend(range(int(lo), int(hi) + 1))
        elif part:
            out.append(int(part))
    return out


def aligned_buffer(fd, size, direct):
    """A writable size-byte view whose address O_DIRECT accepts. python3-minimal has neither mmap nor
    ctypes, so the aligned offset inside a larger bytearray is found by asking the kernel: an O_DIRECT
    read into a misaligned buffer fails with EINVAL and changes nothing."""
    raw = bytearray(size + 4096)
    if not direct:
        return memoryview(raw)[:size]
    for skew in range(0, 4096, 16):
        view = memoryview(raw)[skew:skew + size]
        try:
            os.preadv(fd, [view], 0)
            return view
        except OSError as e:
            if e.errno != errno.EINVAL:
                raise
    sys.exit("clogwrite: no offset in a 4 KiB window gives a buffer O_DIRECT accepts")


def main(argv):
    p = argparse.ArgumentParser(description="write or read clogtest blocks and log each acknowledged operation")
    p.add_argument("--dev", required=True, help="block device or file")
    p.add_argument("--node", type=int, required=True, help="this writer's node id (0-65535)")
    p.add_argument("--run-id", type=int, required=True, help="run id stamped into every block (0-2^32-1)")
    p.add_argument("--block-size", type=int, default=4096, help="bytes per block, a multiple of 512")
    what = p.add_mutually_exclusive_group(required=True)
    what.add_argument("--blocks", help='block indices, e.g. "0-3,7"')
    what.add_argument("--regions", help='region indices, e.g. "2,5-6"; needs --region-size')
    p.add_argument("--region-size", type=int, help="region size in bytes")
    p.add_argument("--count", type=int, help="operations to do (default: one per listed block)")
    p.add_argument("--duration", type=float, help="stop issuing operations this many seconds after the first one")
    p.add_argument("--seq-start", type=int, default=1, help="first sequence number; must not repeat within a run")
    p.add_argument("--random", action="store_true", help="pick blocks at random (seeded by run id, node and slot)")
    p.add_argument("--slot", default="0/1", help="K/S: only blocks whose index mod S is K (default 0/1: all)")
    p.add_argument("--depth", type=int, default=1,
                   help="writes in flight at once: D threads, each with its own share of the slot's blocks")
    p.add_argument("--read", action="store_true", help="read blocks instead of writing them")
    p.add_argument("--log", required=True, help='JSON-lines log, "-" for stdout')
    p.add_argument("--no-direct", action="store_true", help="no O_DIRECT (for files on tmpfs in tests)")
    a = p.parse_args(argv)

    size = a.block_size
    if size < SECTOR_BYTES or size % SECTOR_BYTES:
        p.error("--block-size must be a multiple of %d" % SECTOR_BYTES)
    if a.regions is not None:
        if not a.region_size or a.region_size % size:
            p.error("--regions needs --region-size, a multiple of --block-size")
        per = a.region_size // size
        blocks = [r * per + i for r in parse_list(a.regions) for i in range(per)]
    else:
        blocks = parse_list(a.blocks)
    # Concurrent writers get disjoint blocks: nothing orders two writes in flight to one block, so they
    # may land in a different order on each mirror leg, and the legs would differ through no fault of
    # the log. Regions stay shared, which is what contends in the log.
    try:
        slot, slots = (int(x) for x in a.slot.split("/"))
    except ValueError:
        p.error("--slot must be K/S, e.g. 1/4")
    if not 0 <= slot < slots:
        p.error("--slot K/S needs 0 <= K < S")
    if a.depth < 1:
        p.error("--depth must be at least 1")
    if a.read and a.depth != 1:
        p.error("--depth is for writers")
    flags = (os.O_RDONLY if a.read else os.O_RDWR | os.O_DSYNC) | (0 if a.no_direct else os.O_DIRECT)
    fd = os.open(a.dev, flags)
    # A mirror whose length is not a whole number of regions ends inside its last region: the blocks
    # of that region past the end do not exist (reading one would return nothing, writing it fail).
    end = os.lseek(fd, 0, os.SEEK_END)
    blocks = [b for b in blocks if b % slots == slot and (b + 1) * size <= end]
    if len(blocks) < a.depth:
        p.error("no blocks to operate on" if not blocks else "--depth %d needs as many blocks, got %d" % (a.depth, len(blocks)))
    count = len(blocks) if a.count is None else a.count

    log = sys.stdout if a.log == "-" else open(a.log, "a", buffering=1)
    log_lock = threading.Lock()

    def emit(fields):
        line = json_line(fields) + "\n"
        with log_lock:
            log.write(line)
            log.flush()

    # The duration runs from the first operation, not from the start of the process: starting Python
    # in a guest under TCG takes seconds, which would otherwise come out of the workload.
    clock = {"until": None}
    failures = []

    def worker(lane):
        """Lane j of D writes blocks j, j+D, ... of the slot's list and sequence numbers seq-start + j,
        + j + D, ...: no two lanes share a block (their writes could land in either order on each leg)
        or a sequence number."""
        mine = blocks[lane::a.depth]
        seed = (a.run_id * 65536 + a.node) * 1024 + slot
        rng = random.Random(seed if a.depth == 1 else seed * 64 + lane)
        buf = aligned_buffer(fd, size, not a.no_direct)
        for k in range(lane, count, a.depth):
            if a.duration is not None:
                with log_lock:
                    if clock["until"] is None:
                        clock["until"] = time.monotonic() + a.duration
                    until = clock["until"]
                if time.monotonic() >= until:
                    break
            block = rng.choice(mine) if a.random else mine[(k // a.depth) % len(mine)]
            offset = block * size
            if a.read:
                start = time.time_ns()
                got = os.preadv(fd, [buf], offset)
                t = time.time_ns()
                if got != size:
                    failures.append("short read of block %d at offset %d: %d of %d bytes" % (block, offset, got, size))
                    return
                kind, found, why = decode_block(bytes(buf), offset)
                emit({"op": "read", "t": t, "start": start, "run": a.run_id, "node": a.node, "block": block,
                      "offset": offset, "kind": kind,
                      "found": None if found is None else {"node": found[0], "seq": found[1], "run": found[2]},
                      "why": why})
                continue
            seq = a.seq_start + k
            buf[:] = encode_block(a.node, seq, offset, a.run_id, size)
            ident = {"run": a.run_id, "node": a.node, "seq": seq, "block": block, "offset": offset}
            start = time.time_ns()
            emit(dict({"op": "write-start", "t": start}, **ident))
            try:
                got = os.pwrite(fd, buf, offset)
            except OSError as e:
                failures.append("write of block %d seq %d at offset %d failed: %s" % (block, seq, offset, e))
                return
            t = time.time_ns()
            if got != size:
                failures.append("short write of block %d seq %d at offset %d: %d of %d bytes" % (block, seq, offset, got, size))
                return
            emit(dict({"op": "write", "t": t, "start": start}, **ident))

    if a.depth == 1:
        worker(0)
    else:
        lanes = [threading.Thread(target=worker, args=(j,)) for j in range(a.depth)]
        for th in lanes:
            th.start()
        for th in lanes:
            th.join()
    if failures:
        sys.exit("clogwrite: " + failures[0])
    os.close(fd)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
