#!/usr/bin/python3
"""expected.json of a LoRA adapter fixture, by Hugging Face transformers' own model code.

Run from this folder with the oracle of the DroSharp workspace (transformers 4.55.0 on torch 1.13; not part of
the repository):  ORACLE=/path/to/oracle /usr/bin/python3 make_expected.py qwen3 t5-tiny

PEFT is not installed there, so its LoRA convention is applied by hand, as PEFT's LoraLayer documents it:
for every key `base_model.model.<module>.lora_A.weight` [r, in] with its `.lora_B.weight` [out, r] of
adapter_model.safetensors, the module's weight becomes W + scaling * (B @ A) (PEFT's merge), where
scaling = lora_alpha / r, or lora_alpha / sqrt(r) with use_rslora (adapter_config.json). The merged model
then scores inputs.jsonl in float32: per-row sums of log pi(completion | prompt) and per-token log-probs.
"""
import json, math, os, sys

sys.path.insert(0, os.environ["ORACLE"])
import oracle  # noqa: E402  (sets up the transformers environment)
import torch  # noqa: E402
from safetensors.torch import load_file  # noqa: E402  (the oracle's pure-Python safetensors)

PREFIX = "base_model.model."

for name in sys.argv[1:]:
    cfg = json.load(open(os.path.join(name, "adapter_config.json")))
    base = os.path.normpath(os.path.join(name, cfg["base_model_name_or_path"]))
    r, alpha = cfg["r"], cfg["lora_alpha"]
    scaling = alpha / math.sqrt(r) if cfg.get("use_rslora") else alpha / r
    model, config, mt, info = oracle.build(base, "float32")
    sd = load_file(os.path.join(name, "adapter_model.safetensors"))
    merged = []
    with torch.no_grad():
        for key in sorted(sd):
            if not key.endswith(".lora_A.weight"):
                continue
            assert key.startswith(PREFIX), key
            module = key[len(PREFIX):-len(".lora_A.weight")]
            a, b = sd[key], sd[key.replace(".lora_A.", ".lora_B.")]
            lin = model.get_submodule(module)
            assert isinstance(lin, torch.nn.Linear), module
            assert tuple(a.shape) == (r, lin.in_features) and tuple(b.shape) == (lin.out_features, r), module
            lin.weight.data += (b @ a) * scaling
            merged.append(module)
    rows = [json.loads(l) for l in open(os.path.join(name, "inputs.jsonl")) if l.strip()]
    token_logps, sums = [], []
    for row in rows:
        tok, _, _ = oracle.forward_logits(model, mt, row["prompt_ids"], row["completion_ids"])
        token_logps.append([float(x) for x in tok])
        sums.append(float(tok.sum()))
    out = {"base": cfg["base_model_name_or_path"], "scaling": scaling, "merged_modules": merged,
           "transformers": oracle.transformers.__version__, "logp_sums": sums, "token_logps": token_logps}
    with open(os.path.join(name, "expected.json"), "w") as f:
        json.dump(out, f, indent=1)
    print(name, len(merged), "modules merged;", ["%.6f" % s for s in sums])
