#!/usr/bin/env python3
"""Writes ../unicode-normalization.jsonl: strings and their NFC/NFD/NFKC/NFKD per Python's unicodedata
(run with the same Python as src/DroSharp.Text/Normalizers/generate_unicode_data.py)."""
import json, random, unicodedata as ud
rng = random.Random(1234)
interesting = [c for c in range(0xA0, 0x30000) if not (0xD800 <= c <= 0xDFFF)
               and (ud.decomposition(chr(c)) or ud.combining(chr(c)) or 0x1100 <= c <= 0x11FF or 0xAC00 <= c <= 0xD7A3)]
cases = ["e\u0301", "\u1100\u1161\u11a8", "\uac00\u11a8", "a\u0328\u0301\u0323", "\u0344", "\u1e9b\u0323",
         "Å Å Å", "ﬁ ½ ㎏ Ⅻ ＡＢＣ", "\u0f73\u0f75\u0f81", "\u09cb\u09be\u09d7", "\u0b47\u0b3e\u0b56", "\U0001d15e\U0001d165",
         "q\u0307\u0323", "\u00c5\u0301\u0327", "plain ascii", ""]
for _ in range(300):
    n = rng.randint(1, 6)
    s = []
    for _ in range(n):
        r = rng.random()
        if r < 0.6: s.append(chr(rng.choice(interesting)))
        elif r < 0.8: s.append(chr(rng.choice([0x300, 0x301, 0x308, 0x323, 0x327, 0x328, 0x1161, 0x11a8, 0x3099, 0x309a])))
        else: s.append(chr(rng.randint(0x41, 0x7a)))
    cases.append("".join(s))
with open('../unicode-normalization.jsonl', 'w') as f:
    for s in cases:
        f.write(json.dumps({"text": s, "nfc": ud.normalize("NFC", s), "nfd": ud.normalize("NFD", s),
                            "nfkc": ud.normalize("NFKC", s), "nfkd": ud.normalize("NFKD", s)}) + "\n")
print(ud.unidata_version, len(cases))
