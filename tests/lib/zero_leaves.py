#!/usr/bin/env python3
"""zero_leaves.py DATA.MDB NAME [keys|keysizes]: zero every leaf page of
one named database.  With "keys", raise the first byte of every separator
key of its branch pages instead, leaving every leaf whole (a cursor walk
still reads it all, lookups by key go astray).  With "keysizes", make
every key of its leaves 1 byte long (the records are still there in
order, under keys no lookup finds)."""
import struct
import sys

# The tree is read as LMDB 0.9 lays it out, without LMDB, so that the
# damage lands where the test wants it.  A page: a 16-byte header (number,
# pad, flags, lower, upper), then 2-byte node offsets; a node: size (2+2),
# flags, key size, key, data.  The meta (pages 0 and 1, the higher txnid
# wins): magic, version, address, map size, two 48-byte database records
# (the free list's md_pad holds the page size; md_root is at 40), last
# page, txnid.
path, name = sys.argv[1], sys.argv[2].encode()
mode = sys.argv[3] if len(sys.argv) > 3 else 'zero'
with open(path, 'rb') as f:
    data = f.read()
P_BRANCH, P_LEAF = 0x01, 0x02
def meta(pg, ps):
    off = pg * ps + 16
    magic, = struct.unpack_from('<I', data, off)
    assert magic == 0xBEEFC0DE
    dbs = off + 24
    txnid, = struct.unpack_from('<Q', data, dbs + 96 + 8)
    return txnid, dbs
ps = struct.unpack_from('<I', data, 16 + 24)[0]     # FREE_DBI's md_pad
_, dbs = max(meta(0, ps), meta(1, ps))
main_root, = struct.unpack_from('<Q', data, dbs + 48 + 40)
def nodes(pg):
    off = pg * ps
    flags, lower = struct.unpack_from('<HH', data, off + 10)
    for i in range((lower - 16) // 2):
        ptr, = struct.unpack_from('<H', data, off + 16 + 2 * i)
        yield flags, off + ptr
def leaves(pg):
    flags = struct.unpack_from('<H', data, pg * ps + 10)[0]
    if flags & P_LEAF:
        yield pg
        return
    assert flags & P_BRANCH
    for _, n in nodes(pg):
        lo, hi, fl = struct.unpack_from('<HHH', data, n)
        yield from leaves(lo | hi << 16 | fl << 32)
root = None
for pg in leaves(main_root):
    for _, n in nodes(pg):
        lo, hi, fl, ks = struct.unpack_from('<HHHH', data, n)
        if data[n + 8:n + 8 + ks] == name:
            root, = struct.unpack_from('<Q', data, n + 8 + ks + 40)
assert root is not None, 'no database %r' % name
def separators(pg):
    """Offsets of the first key byte of every branch node but the first
    (whose key LMDB leaves empty), in the whole tree."""
    flags = struct.unpack_from('<H', data, pg * ps + 10)[0]
    if flags & P_LEAF:
        return
    for i, (_, n) in enumerate(nodes(pg)):
        lo, hi, fl, ks = struct.unpack_from('<HHHH', data, n)
        if i > 0 and ks > 0:
            yield n + 8
        yield from separators(lo | hi << 16 | fl << 32)
found = list(separators(root) if mode == 'keys' else leaves(root))
assert found, 'no branch page' if mode == 'keys' else 'no leaf'
with open(path, 'r+b') as f:
    for off in found:
        if mode == 'keys':
            f.seek(off)
            f.write(b'\xff')
        elif mode == 'keysizes':
            for _, n in nodes(off):
                f.seek(n + 6)
                f.write(struct.pack('<H', 1))
        else:
            f.seek(off * ps)
            f.write(bytes(ps))
print(len(found))
