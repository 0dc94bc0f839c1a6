"""What the poem chapter reads besides the weights: the corpus's counts, the test poems, the training log.

All three ship in attn_steps/data/poet/, written by tools/make_poem_corpus.py and
tools/train_poet.py (the training poems themselves do not ship; see the data README).
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from .poet import DATA


def corpus_info() -> dict:
    """The corpus's counts and baselines as tools/make_poem_corpus.py measured them (corpus.json)."""
    return json.loads((DATA / "corpus.json").read_text(encoding="utf-8"))


def test_poems() -> list[str]:
    """The shipped test poems (never trained on), one string each: characters with ，and 。."""
    return [line for line in (DATA / "test_poems.txt").read_text(encoding="utf-8").splitlines() if line]


def training_log(folder=None) -> pd.DataFrame:
    """The training run's log (train_log.csv): step, train_loss, val_loss, lr, seconds; losses in nats per token."""
    path = (DATA if folder is None else Path(folder)) / "train_log.csv"
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing: tools/train_poet.py writes it beside weights.npz")
    return pd.read_csv(path)
