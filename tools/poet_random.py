"""A random model of the poet's layout, written as tools/train_poet.py writes a trained one (weights.npz, model.json).

For tests and benchmarks of the browser's poet, which must not wait minutes for a
training run: its arithmetic, sizes and timings are a trained model's, its poems are noise.

    python -m tools.poet_random OUT [--n-layer 4 --n-head 4 --n-embd 96]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from attn_steps.poet_weights import BITS, quantise

CONFIG = {"n_layer": 2, "n_head": 2, "n_embd": 32, "block_size": 65, "vocab_size": 3004}


def write_tiny_poet(folder: Path, seed: int = 0, std: float = 0.3, config: dict = CONFIG, end_boost: float = 0.0,
                    float16=(), bits=BITS) -> Path:
    """weights.npz and model.json of a random model of the poet's layout, stored as tools/train_poet.py stores one
    (integer rows of the bits `bits` gives, int8 by default; the matrices named in float16 as float16).

    end_boost: about how much the final LayerNorm's bias adds to the end token's logit, so that
    some poems end before the context is full (a random model otherwise almost never draws </s>).
    """
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    C, V, L = config["n_embd"], config["vocab_size"], config["n_layer"]
    shapes = {"transformer.wte.weight": (V, C), "transformer.wpe.weight": (config["block_size"], C),
              "transformer.ln_f.weight": (C,), "transformer.ln_f.bias": (C,)}
    for i in range(L):
        pre = f"transformer.h.{i}"
        shapes.update({f"{pre}.ln_1.weight": (C,), f"{pre}.ln_1.bias": (C,), f"{pre}.ln_2.weight": (C,),
                       f"{pre}.ln_2.bias": (C,), f"{pre}.attn.c_attn.weight": (3 * C, C), f"{pre}.attn.c_attn.bias": (3 * C,),
                       f"{pre}.attn.c_proj.weight": (C, C), f"{pre}.attn.c_proj.bias": (C,),
                       f"{pre}.mlp.c_fc.weight": (4 * C, C), f"{pre}.mlp.c_fc.bias": (4 * C,),
                       f"{pre}.mlp.c_proj.weight": (C, 4 * C), f"{pre}.mlp.c_proj.bias": (C,)})
    drawn = {}
    for name, shape in shapes.items():
        drawn[name] = rng.standard_normal(shape) * std + (1.0 if name.endswith("ln_1.weight") or name.endswith("ln_2.weight")
                                                           or name == "transformer.ln_f.weight" else 0.0)
    end = drawn["transformer.wte.weight"][2]  # </s>
    drawn["transformer.ln_f.bias"] += end_boost * end / (end @ end)
    np.savez(folder / "weights.npz", **quantise(drawn, float16=float16, bits=bits))
    (folder / "model.json").write_text(json.dumps({**config, "seed": seed, "note": "random, for tests"}), encoding="utf-8")
    return folder


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out", type=Path)
    for k, v in CONFIG.items():
        ap.add_argument("--" + k.replace("_", "-"), type=int, default=v)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    write_tiny_poet(args.out, args.seed, config={k: getattr(args, k) for k in CONFIG})


if __name__ == "__main__":
    main()
