import json, copy, subprocess, sys
G = '/work/shared/golden'
base = {n: json.load(open(f'{G}/{n}/tokenizer.json')) for n in ['t5-unigram', 'gpt2-bpe']}
precompiled = "$base:normalizer"
llama3 = r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"
cl100k_possessive = r"'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]++[\r\n]*|\s*[\r\n]|\s+(?!\S)|\s+"
byte_pieces = [[f"<0x{b:02X}>", -20.0] for b in range(256)]
variants = {
  "t5-metaspace-first": {"base": "t5-unigram", "set": {
      "normalizer": {"type": "Sequence", "normalizers": [precompiled, {"type": "Replace", "pattern": {"Regex": " {2,}"}, "content": " "}]},
      "pre_tokenizer": {"type": "Metaspace", "replacement": "▁", "prepend_scheme": "first", "split": True},
      "decoder": {"type": "Metaspace", "replacement": "▁", "prepend_scheme": "first", "split": True}}},
  "t5-metaspace-nosplit-never": {"base": "t5-unigram", "set": {
      "pre_tokenizer": {"type": "Metaspace", "replacement": "▁", "prepend_scheme": "never", "split": False},
      "decoder": {"type": "Metaspace", "replacement": "▁", "prepend_scheme": "never", "split": False}}},
  "t5-byte-fallback-llama2-decoder": {"base": "t5-unigram", "model": {"byte_fallback": True}, "append_unigram_vocab": byte_pieces, "set": {
      "normalizer": {"type": "Sequence", "normalizers": [{"type": "Prepend", "prepend": "▁"}, {"type": "Replace", "pattern": {"String": " "}, "content": "▁"}]},
      "pre_tokenizer": None,
      "decoder": {"type": "Sequence", "decoders": [{"type": "Replace", "pattern": {"String": "▁"}, "content": " "}, {"type": "ByteFallback"}, {"type": "Fuse"}, {"type": "Strip", "content": " ", "start": 1, "stop": 0}]}}},
  "gpt2-llama3-split-ignore-merges-bos": {"base": "gpt2-bpe", "model": {"ignore_merges": True}, "set": {
      "pre_tokenizer": {"type": "Sequence", "pretokenizers": [{"type": "Split", "pattern": {"Regex": llama3}, "behavior": "Isolated", "invert": False}, {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": False}]},
      "post_processor": {"type": "TemplateProcessing", "single": [{"SpecialToken": {"id": "<|endoftext|>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}], "pair": [{"SpecialToken": {"id": "<|endoftext|>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}, {"Sequence": {"id": "B", "type_id": 1}}], "special_tokens": {"<|endoftext|>": {"id": "<|endoftext|>", "ids": [50256], "tokens": ["<|endoftext|>"]}}}}},
  "gpt2-possessive-regex": {"base": "gpt2-bpe", "set": {
      "pre_tokenizer": {"type": "Sequence", "pretokenizers": [{"type": "Split", "pattern": {"Regex": cl100k_possessive}, "behavior": "Isolated", "invert": False}, {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": False}]}}},
  "gpt2-prefix-space-lowercase": {"base": "gpt2-bpe", "set": {
      "normalizer": {"type": "Sequence", "normalizers": [{"type": "NFKC"}, {"type": "Lowercase"}, {"type": "Strip", "strip_left": True, "strip_right": True}]},
      "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": True}}},
  "gpt2-split-behaviors": {"base": "gpt2-bpe", "set": {
      "normalizer": {"type": "NFD"},
      "pre_tokenizer": {"type": "Sequence", "pretokenizers": [
          {"type": "Split", "pattern": {"String": " "}, "behavior": "MergedWithNext", "invert": False},
          {"type": "Split", "pattern": {"Regex": "[,.!?]"}, "behavior": "MergedWithPrevious", "invert": False},
          {"type": "Split", "pattern": {"Regex": "\\d"}, "behavior": "Contiguous", "invert": False},
          {"type": "Punctuation", "behavior": "Isolated"},
          {"type": "Digits", "individual_digits": False},
          {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": False}]}}},
}
def resolve(x, b):
    if x == "$base:normalizer": return copy.deepcopy(b["normalizer"])
    if isinstance(x, dict): return {k: resolve(v, b) for k, v in x.items()}
    if isinstance(x, list): return [resolve(v, b) for v in x]
    return x
def build(v):
    j = copy.deepcopy(base[v["base"]])
    for k, val in v.get("set", {}).items(): j[k] = resolve(val, base[v["base"]])
    for k, val in v.get("model", {}).items(): j["model"][k] = val
    if "append_unigram_vocab" in v: j["model"]["vocab"].extend(v["append_unigram_vocab"])
    return j
json.dump(variants, open('/tmp/hfx/variants.json', 'w'), ensure_ascii=False, indent=1)
strings = [json.loads(l)["text"] for l in open('/tmp/hfx/strings.jsonl')]
for n in ['t5-unigram', 'gpt2-bpe']:
    strings += [json.loads(l)["text"] for l in open(f'{G}/{n}/expected.jsonl')]
seen = set(); uniq = []
for s in strings:
    if s not in seen: seen.add(s); uniq.append(s)
with open('/tmp/hfx/var/strings.jsonl', 'w') as f:
    for s in uniq: f.write(json.dumps({"text": s}, ensure_ascii=False) + "\n")
out = open('/tmp/hfx/variants.hf-expected.jsonl', 'w')
for name, v in variants.items():
    path = f'/tmp/hfx/var/{name}.json'
    json.dump(build(v), open(path, 'w'), ensure_ascii=False)
    res = subprocess.run(['node', '/tmp/hftok/enc2.js', path, '/tmp/hfx/var/strings.jsonl'], capture_output=True, text=True)
    if res.returncode != 0: print(name, res.stderr[:2000]); sys.exit(1)
    for line in res.stdout.split('\n'):
        if not line: continue
        o = json.loads(line); o = {"variant": name, **o}; del o["tokens"]
        out.write(json.dumps(o, ensure_ascii=False) + "\n")
print("ok", len(uniq))
