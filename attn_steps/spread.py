"""How spread out a table of attention weights is, in numbers and in the sentence that reads them.

Chapter 2 (§7 and §12) puts weight heatmaps side by side and says which is
more spread out. Those sentences are generated here from each panel's numbers,
so a panel that does not spread out can never be captioned as if it did:
`row_peak` (each row's largest weight: 1 is one-hot, 1/n is even) and
`row_entropy` (bits: 0 is one-hot, log2 n is even) summarise a panel, and a
comparison is only worded as one when every step clears a margin. The
sentences carry no TeX: a notebook's generated Markdown is not typeset by MathJax.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .attention import as_frame

# A step between two panels counts only if it is at least this large. Seeds move
# chapter 2's panel means by more than rounding ever could, and less than these:
# measured over seeds 0-19, neighbouring panels' ranges of the mean peak do not overlap.
PEAK_MARGIN = 0.05
ENTROPY_MARGIN = 0.25  # bits
SATURATED = 0.9  # a mean peak above this is "nearly one-hot"

COLUMNS = {"peak": "每行最大权重（平均）", "entropy": "熵（比特，平均）", "words": "2^熵 的平均（相当于平分给几个词）"}


def row_peak(weights) -> pd.Series:
    """Each row's largest weight: 1.0 when the row is one-hot, 1/n when it is spread evenly over n columns."""
    weights = as_frame(weights, "weights")
    return weights.max(axis=1).rename("peak")


def row_entropy(weights) -> pd.Series:
    """Each row's entropy in bits, −Σ w log2 w: 0 when one-hot, log2 n when even; 2**H reads as "about 2**H words"."""
    frame = as_frame(weights, "weights")
    w = frame.to_numpy()
    logs = np.log2(np.where(w > 0, w, 1.0))  # 0·log 0 = 0
    return pd.Series(-(w * logs).sum(axis=1) + 0.0, index=frame.index, name="entropy")


def spread(panels: dict) -> pd.DataFrame:
    """One row per panel (in the order given): mean of each row's peak, mean entropy, mean 2**entropy."""
    return pd.DataFrame({name: {"peak": row_peak(w).mean(), "entropy": row_entropy(w).mean(),
                                "words": (2.0 ** row_entropy(w)).mean()}
                         for name, w in panels.items()}).T


def steadily(values, margin: float) -> bool:
    """Whether values rise by at least margin at every step (pass −values for a steady fall)."""
    steps = np.diff(np.asarray(values, dtype=float))
    return len(steps) > 0 and bool((steps >= margin).all())


def spreads_out(table: pd.DataFrame) -> bool:
    """Whether, panel after panel, the mean peak falls and the mean entropy rises, each by its margin."""
    return steadily(-table["peak"], PEAK_MARGIN) and steadily(table["entropy"], ENTROPY_MARGIN)


def _listed(values, fmt: str) -> str:
    return "、".join(format(v, fmt) for v in values)


def describe_one(name: str, row: pd.Series) -> str:
    """One panel in words: the peak and entropy, and what they mean.

    "相当于平分给约 N 个词" is the mean over rows of 2**H (the table's words column), which
    is never less than 2**(mean H) (2**H is convex): the sentence names both, so a reader
    who raises 2 to the mean entropy is not left with a number that seems wrong.
    """
    numbers = f"「{name}」每行最大权重的平均是 {row['peak']:.2f}，平均熵 {row['entropy']:.2f} 比特"
    which = (f"：逐行算 2^H 再取平均；2 的平均熵次方是 2^{row['entropy']:.2f} ≈ {2.0 ** row['entropy']:.1f}，"
             "各行分散的程度不同时总小一些")
    if row["words"] >= 3:
        return numbers + f"：每个词的注意力分给了好几个词（相当于平分给约 {row['words']:.1f} 个词{which}）。"
    if row["words"] <= 1.5:
        return numbers + "：几乎每一行的权重都落在一个词上。"
    return numbers + f"：注意力主要落在一两个词上（相当于平分给约 {row['words']:.1f} 个词{which}）。"


def describe(table: pd.DataFrame) -> str:
    """Left to right, what the panels of `spread(...)` show; "越来越分散" only when every step clears the margins."""
    peaks, entropies = _listed(table["peak"], ".2f"), _listed(table["entropy"], ".2f")
    if spreads_out(table):
        head = (f"从左到右，权重越来越分散：每行最大权重的平均依次是 {peaks}，"
                f"平均熵依次是 {entropies} 比特（熵越大越分散）。")
    else:
        head = (f"从左到右，每行最大权重的平均依次是 {peaks}，平均熵依次是 {entropies} 比特："
                f"并不是每一步都更分散（每一步至少要差 {PEAK_MARGIN} 和 {ENTROPY_MARGIN} 比特才算）。")
    return head + describe_one(table.index[-1], table.iloc[-1])


def describe_d_k(unscaled: pd.Series, scaled: pd.Series) -> str:
    """How the mean peak moves with d_k (the index), without and with the division by √d_k.

    "越来越接近独热" only if the unscaled means rise by PEAK_MARGIN at every step;
    "基本不随 d_k 变化" only if the scaled ones stay within 2·PEAK_MARGIN while
    the unscaled ones move at least three times as far.
    """
    d_ks = f"d_k 从 {unscaled.index[0]} 到 {unscaled.index[-1]}"
    moved, kept = np.ptp(unscaled.to_numpy()), np.ptp(scaled.to_numpy())
    if steadily(unscaled, PEAK_MARGIN):
        first = f"**不缩放**时，{d_ks}，每行最大权重的平均步步上升（{_listed(unscaled, '.2f')}），越来越接近独热；"
    else:
        first = f"**不缩放**时，{d_ks}，每行最大权重的平均依次是 {_listed(unscaled, '.2f')}，并不是步步上升；"
    if kept <= 2 * PEAK_MARGIN and moved >= 3 * kept:
        second = (f"**缩放**之后，它只在 {scaled.min():.2f} 到 {scaled.max():.2f} 之间，基本不随 d_k 变化。"
                  "这正是除以 √d_k 的目的。")
    else:
        second = f"**缩放**之后依次是 {_listed(scaled, '.2f')}：这组数里看不出缩放让它不随 d_k 变化。"
    return first + second


def describe_settings(table: pd.DataFrame, source: str, one_changed: list[str], both: str, d_k: int) -> list[str]:
    """Chapter 2 §12's reading of its table (rows (setting, "不缩放"/"缩放"), columns d_k), one bullet each.

    source is the blog's setting, one_changed the settings that change X or W
    alone, both the one that changes both; d_k the column the three are compared at.
    """
    low = table.loc[source].min().min()
    bullets = [f"- **{source}的设置**下，无论 d_k 是多少、缩放与否，每行最大权重的平均都在 {low:.2f} 以上"
               + ("：softmax 已经饱和，缩放救不回来。" if low >= SATURATED else "。")]
    singles = {name: table.loc[(name, "缩放"), d_k] for name in one_changed}
    after = table.loc[(both, "缩放"), d_k]
    named = "，".join(f"「{name}」是 {value:.2f}" for name, value in singles.items())
    if min(singles.values()) - after >= 2 * PEAK_MARGIN:
        bullets.append(f"- **只改一处不够**：d_k = {d_k}、缩放时，{named}；「{both}」才降到 {after:.2f}。"
                       "X 的大小和 W 的大小同样要紧。")
    else:
        bullets.append(f"- d_k = {d_k}、缩放时，{named}，「{both}」是 {after:.2f}：只改一处和两处都改相差不到 {2 * PEAK_MARGIN:.1f}。")
    bullets.append(f"- 「{both}」时，Q、K 的各分量方差约为 1，正是论文分析 √d_k 时的假设。这时两行的对比最清楚："
                   + describe_d_k(table.loc[(both, "不缩放")], table.loc[(both, "缩放")]))
    return bullets
