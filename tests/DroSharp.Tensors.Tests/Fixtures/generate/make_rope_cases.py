#!/usr/bin/python3
"""RoPE inverse frequencies, attention scaling and cos/sin rows from Hugging Face transformers 4.55.0's own
rotary-embedding modules (LlamaRotaryEmbedding, Phi3RotaryEmbedding: modeling_rope_utils.py's init functions
plus the dynamic/longrope forward-time update), for tests/DroSharp.Tensors.Tests/Fixtures/rope-cases.json.

usage: /usr/bin/python3 make_rope_cases.py ORACLE_DIR > rope-cases.json
  ORACLE_DIR: a directory with env/tf4550 (the pure-Python transformers 4.55.0 wheel contents), shims/ and
  shims_new/torch2compat.py (torch 1.13 made to pass transformers' version gate), run with Debian's python3-torch.
The tests only read the JSON; nothing runs this script.
"""
import json, math, os, sys

oracle = sys.argv[1]
sys.path.insert(0, os.path.join(oracle, "shims"))
sys.path.insert(0, os.path.join(oracle, "shims_new"))
sys.path.insert(0, os.path.join(oracle, "env", "tf4550"))
sys.modules["sentencepiece"] = None
import torch  # noqa: E402
import torch2compat  # noqa: E402,F401
import transformers  # noqa: E402
from transformers.models.llama.configuration_llama import LlamaConfig  # noqa: E402
from transformers.models.llama.modeling_llama import LlamaRotaryEmbedding  # noqa: E402
from transformers.models.phi3.configuration_phi3 import Phi3Config  # noqa: E402
from transformers.models.phi3.modeling_phi3 import Phi3RotaryEmbedding  # noqa: E402

assert transformers.__version__ == "4.55.0"
torch.set_num_threads(1)


def factors(n, lo, hi, seed):
    g = torch.Generator().manual_seed(seed)
    return [float(round(v, 6)) for v in (lo + (hi - lo) * torch.rand(n, generator=g)).tolist()]


CASES = [
    # name, config class, config kwargs, sequence lengths to run the forward with
    ("default-64", LlamaConfig, dict(hidden_size=576, num_attention_heads=9, rope_theta=10000.0, max_position_embeddings=8192), [7, 300]),
    ("default-128-theta1e6", LlamaConfig, dict(hidden_size=896, num_attention_heads=7, head_dim=128, rope_theta=1000000.0, max_position_embeddings=32768), [5]),
    ("default-partial", LlamaConfig, dict(hidden_size=3072, num_attention_heads=24, partial_rotary_factor=0.75, rope_theta=10000.0, max_position_embeddings=4096), [9]),
    ("linear", LlamaConfig, dict(hidden_size=512, num_attention_heads=8, rope_theta=10000.0, max_position_embeddings=4096,
                                 rope_scaling={"rope_type": "linear", "factor": 4.0}), [6]),
    ("dynamic", LlamaConfig, dict(hidden_size=512, num_attention_heads=8, rope_theta=10000.0, max_position_embeddings=2048,
                                  rope_scaling={"rope_type": "dynamic", "factor": 2.0}), [100, 2048, 2049, 5000]),
    ("dynamic-partial-odd-factor", LlamaConfig, dict(hidden_size=960, num_attention_heads=10, partial_rotary_factor=0.5, rope_theta=50000.0,
                                                     max_position_embeddings=1000, rope_scaling={"rope_type": "dynamic", "factor": 3.3}), [1777]),
    ("llama3", LlamaConfig, dict(hidden_size=2048, num_attention_heads=32, head_dim=64, rope_theta=500000.0, max_position_embeddings=131072,
                                 rope_scaling={"rope_type": "llama3", "factor": 32.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
                                               "original_max_position_embeddings": 8192}), [11]),
    ("llama3-128", LlamaConfig, dict(hidden_size=4096, num_attention_heads=32, rope_theta=500000.0, max_position_embeddings=131072,
                                     rope_scaling={"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
                                                   "original_max_position_embeddings": 8192}), [3]),
    ("yarn-qwen", LlamaConfig, dict(hidden_size=896, num_attention_heads=14, rope_theta=1000000.0, max_position_embeddings=131072,
                                    rope_scaling={"rope_type": "yarn", "factor": 4.0, "original_max_position_embeddings": 32768}), [5]),
    ("yarn-no-original", LlamaConfig, dict(hidden_size=512, num_attention_heads=8, rope_theta=10000.0, max_position_embeddings=4096,
                                           rope_scaling={"rope_type": "yarn", "factor": 8.0, "beta_fast": 16.0, "beta_slow": 2.0}), [5]),
    ("yarn-mscale-notruncate", LlamaConfig, dict(hidden_size=1024, num_attention_heads=8, rope_theta=10000.0, max_position_embeddings=16384,
                                                 rope_scaling={"rope_type": "yarn", "factor": 40.0, "mscale": 0.707, "mscale_all_dim": 1.0,
                                                               "original_max_position_embeddings": 4096, "truncate": False}), [5]),
    ("yarn-attention-factor", LlamaConfig, dict(hidden_size=768, num_attention_heads=12, rope_theta=10000.0, max_position_embeddings=8192,
                                                rope_scaling={"rope_type": "yarn", "factor": 2.0, "attention_factor": 0.8}), [5]),
    ("longrope-phi", Phi3Config, dict(hidden_size=3072, num_attention_heads=24, num_key_value_heads=8, partial_rotary_factor=0.75,
                                      rope_theta=10000.0, max_position_embeddings=131072, original_max_position_embeddings=4096,
                                      rope_scaling={"type": "longrope", "short_factor": factors(48, 1.0, 3.0, 1),
                                                    "long_factor": factors(48, 1.0, 40.0, 2)}), [100, 4096, 4097, 5000]),
    ("longrope-factor", LlamaConfig, dict(hidden_size=512, num_attention_heads=8, rope_theta=10000.0, max_position_embeddings=8192,
                                          rope_scaling={"rope_type": "longrope", "factor": 4.0, "short_factor": factors(32, 1.0, 2.0, 3),
                                                        "long_factor": factors(32, 1.0, 9.0, 4)}), [10, 9000]),
]

ROWS = [0, 1, 2, 5]
out = []
for name, cls, kw, lengths in CASES:
    for L in lengths:
        cfg = cls(vocab_size=32, num_hidden_layers=1, intermediate_size=64, **kw)
        emb = (Phi3RotaryEmbedding if cls is Phi3Config else LlamaRotaryEmbedding)(cfg)
        pos = torch.arange(L, dtype=torch.int64)[None, :]
        x = torch.zeros(1, dtype=torch.float32)
        cos, sin = emb(x, pos)
        rows = sorted(set([p for p in ROWS if p < L] + [L - 1]))
        half = cos.shape[-1] // 2
        rs = cfg.rope_scaling or {}
        out.append({
            "name": name, "sequence_length": L,
            "rope_type": rs.get("rope_type", rs.get("type", "default")),
            "rope_theta": cfg.rope_theta,
            "head_dim": getattr(cfg, "head_dim", None) or cfg.hidden_size // cfg.num_attention_heads,
            "partial_rotary_factor": getattr(cfg, "partial_rotary_factor", 1.0),
            "max_position_embeddings": cfg.max_position_embeddings,
            "config_original_max_position_embeddings": getattr(cfg, "original_max_position_embeddings", None),
            "rope_scaling": rs,
            "inv_freq": [float(v) for v in emb.inv_freq.tolist()],
            "attention_scaling": float(emb.attention_scaling),
            "positions": rows,
            "cos": [[float(v) for v in cos[0, p, :half].tolist()] for p in rows],
            "sin": [[float(v) for v in sin[0, p, :half].tolist()] for p in rows],
        })
json.dump({"transformers": transformers.__version__, "torch": torch.__version__, "cases": out}, sys.stdout, indent=None)
print()
