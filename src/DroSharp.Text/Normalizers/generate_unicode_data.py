#!/usr/bin/env python3
"""Writes UnicodeNormalizationData.bin (gzip) from Python's unicodedata, for UnicodeNormalizer.

Run with the newest Python available (3.13 → Unicode 15.1):  python3.13 generate_unicode_data.py
Layout, little-endian: b"UNRM", u8 major, u8 minor, u8 update, u8 0;
  u32 n, n × (u32 cp, u8 ccc)                    non-zero canonical combining classes
  u32 n, n × (u32 cp, u8 compat, u8 k, k × u32)  one-level decomposition mappings (Hangul excluded: algorithmic)
  u32 n, n × (u32 a, u32 b, u32 composite)       primary composites: NFC(a b) == composite
"""
import gzip, struct, sys, unicodedata as ud

ccc, dec, comp = [], [], []
for cp in range(0x110000):
    if 0xD800 <= cp <= 0xDFFF:
        continue
    c = chr(cp)
    k = ud.combining(c)
    if k:
        ccc.append((cp, k))
    if 0xAC00 <= cp <= 0xD7A3:
        continue
    d = ud.decomposition(c)
    if not d:
        continue
    compat = d.startswith('<')
    parts = [int(x, 16) for x in (d.split(' ', 1)[1] if compat else d).split()]
    dec.append((cp, compat, parts))
    if not compat and len(parts) == 2 and ud.normalize('NFC', chr(parts[0]) + chr(parts[1])) == c:
        comp.append((parts[0], parts[1], cp))

out = bytearray(b'UNRM')
major, minor, update = (int(x) for x in ud.unidata_version.split('.'))
out += bytes([major, minor, update, 0])
out += struct.pack('<I', len(ccc))
for cp, k in ccc:
    out += struct.pack('<IB', cp, k)
out += struct.pack('<I', len(dec))
for cp, compat, parts in dec:
    out += struct.pack('<IBB', cp, int(compat), len(parts)) + b''.join(struct.pack('<I', p) for p in parts)
out += struct.pack('<I', len(comp))
for a, b, c in comp:
    out += struct.pack('<III', a, b, c)
path = sys.argv[1] if len(sys.argv) > 1 else 'UnicodeNormalizationData.bin'
with open(path, 'wb') as f:
    f.write(gzip.compress(bytes(out), 9, mtime=0))
print(ud.unidata_version, len(ccc), len(dec), len(comp), len(out))
