"""Record each head's mean output in a poet's model.json (head_means): what a "mean" knock-out puts in its place.

    python -m tools.head_means attn_steps/data/poet

Averaged over every position (<s> and each character) of the shipped test poems'
lines 301–600 (attn_steps.knockouts.MEAN_POEMS), read with the stored weights
as ats.load_poet reads them, in float64; chapter 9 measures what removing a head
costs on lines 1–200, so the means come from other poems. tools/train_poet.py
calls `record` after it stores the weights; tests/test_knockouts.py checks the
recorded numbers against a fresh computation.
"""

from __future__ import annotations

import argparse
import json
import warnings
from pathlib import Path

from attn_steps.knockouts import MEAN_POEMS
from attn_steps.poet import load_poet
from attn_steps.poet_corpus import test_poems


def record(folder: Path) -> list:
    """Compute the head means of the poet in folder and write them into its model.json; returns them."""
    poet = load_poet(folder)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # characters outside the vocabulary are read as <unk>, as the model reads them
        means = poet.mean_head_outputs(test_poems()[MEAN_POEMS])
    path = Path(folder) / "model.json"
    info = json.loads(path.read_text(encoding="utf-8"))
    info["head_means"] = means.tolist()  # every float as repr: read back bit for bit
    info["head_means_poems"] = (f"test_poems.txt lines {MEAN_POEMS.start + 1}–{MEAN_POEMS.stop}: each head's output "
                                "before c_proj, averaged over every position (<s> and each character)")
    path.write_text(json.dumps(info, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return info["head_means"]


def main(argv=None):
    ap = argparse.ArgumentParser(description="Record each head's mean output in a poet's model.json.")
    ap.add_argument("folder", type=Path, help="the folder of weights.npz and model.json, e.g. attn_steps/data/poet")
    means = record(ap.parse_args(argv).folder)
    print(f"head_means: {len(means)} layers × {len(means[0])} heads × {len(means[0][0])}")


if __name__ == "__main__":
    main()
