"""Chapter 4's head trained as another machine might train it: does its lesson survive?

    python -m tools.head_robustness        # the table, one row per run (about a minute)

Bit-for-bit equal weights hold on one machine only: another processor's
kernels round the same sums differently, and a training run amplifies such
differences. These runs stand in for that: seeds 0-4 (another starting
point), the training rows in three other orders (sums taken in another
order), the inputs moved by 1e-12 relative noise, and the inputs rounded to
float32. The tests (tests/test_head_robustness.py) require the chapter's
claims to hold in every run, and `make bench` prints the figures.
"""

from __future__ import annotations

import contextlib
import zlib
from unittest import mock

import numpy as np
import pandas as pd

import attn_steps as ats
from attn_steps import training
from attn_steps.corpus import is_cue

TEXT1 = "我喜欢的水果是橙子和苹果"
TEXT2 = "相比苹果我更加喜欢国产的华为"
EXPECTED = {TEXT1: "水果", TEXT2: "品牌"}


def _rounded(kind: str):
    """features() with its output moved as another machine's rounding might move it."""
    exact = training.features

    def features(tokens, dim, context, chars=True):
        X = exact(tokens, dim, context, chars)
        values = X.to_numpy()
        if kind == "noise":  # relative noise of 1e-12, the same draw for a word wherever it stands
            rng = np.random.default_rng(zlib.crc32(" ".join(tokens).encode()))
            values = values * (1 + 1e-12 * rng.standard_normal(values.shape))
        elif kind == "float32":
            values = values.astype(np.float32).astype(np.float64)
        out = pd.DataFrame(values, index=X.index, columns=X.columns)
        out.attrs.update(X.attrs)
        return out

    return features


def runs() -> list[tuple[str, dict, str | None, int | None]]:
    """(name, train_head settings, rounding, row order seed) for every run."""
    return ([(f"seed {s}", {"seed": s}, None, None) for s in range(5)]
            + [(f"rows reordered ({r})", {}, None, r) for r in range(3)]
            + [("inputs × (1 + 1e-12 noise)", {}, "noise", None), ("inputs rounded to float32", {}, "float32", None)])


def one_run(train: pd.DataFrame, test: pd.DataFrame, cues: pd.Series, settings: dict,
            rounding: str | None = None, order: int | None = None) -> dict:
    """Train once and measure what chapter 4 claims."""
    if order is not None:
        train = train.iloc[np.random.default_rng(order).permutation(len(train))]
    with mock.patch.object(training, "features", _rounded(rounding)) if rounding else contextlib.nullcontext():
        head = ats.train_head(train, test=test, **settings)
        after, before = head.evaluate(test), head.untrained().evaluate(test)
        row = {"test_accuracy": after["correct"].mean(), "cue_share": after["cue_share"].mean(),
               "cue_share_before": before["cue_share"].mean()}
        for name, text in (("text1", TEXT1), ("text2", TEXT2)):
            sense, p = head.predict(text)
            top = head.attention_row(text).idxmax()
            row.update({f"{name}_sense": sense, f"{name}_p": p, f"{name}_top": top,
                        f"{name}_top_is_cue": is_cue(top.rstrip("₀₁₂₃₄₅₆₇₈₉"), cues[text])})
    row["cue_ratio"] = row["cue_share"] / row["cue_share_before"]
    return row


def table(**settings) -> pd.DataFrame:
    """One row per run of chapter 4's head (its default settings, changed by settings)."""
    corpus = ats.apple_sentences()
    train, test = corpus[corpus["split"] == "train"], corpus[corpus["split"] == "test"]
    cues = corpus.set_index("text")["cues"]
    rows = {name: one_run(train, test, cues, {**settings, **extra}, rounding, order)
            for name, extra, rounding, order in runs()}
    return pd.DataFrame(rows).T


def verdicts_hold(row) -> bool:
    """text1 is 水果 and text2 品牌, each with p ≥ 0.8, and 苹果 looks most at a cue word in both."""
    return all(row[f"{n}_sense"] == EXPECTED[t] and row[f"{n}_p"] >= 0.8 and row[f"{n}_top_is_cue"]
               for n, t in (("text1", TEXT1), ("text2", TEXT2)))


if __name__ == "__main__":
    import json
    import sys

    settings = json.loads(sys.argv[1]) if len(sys.argv) > 1 else {}
    t = table(**settings)
    t["holds"] = t.apply(verdicts_hold, axis=1)
    with pd.option_context("display.width", 250, "display.max_columns", 30):
        print(t.drop(columns=["cue_share_before"]).to_string(float_format=lambda v: f"{v:.3f}"))
    num = t[["test_accuracy", "cue_share", "cue_ratio"]].astype(float)
    print(settings, f"holds {int(t['holds'].sum())}/{len(t)}", "mean", num.mean().round(3).to_dict(), "min", num.min().round(3).to_dict())
