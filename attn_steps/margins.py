"""When two sets of runs differ: a comparison in the book's prose needs a gap larger than the runs' own spread.

Chapter 4 trains each variant of its head with more than one seed. A
variant is "lower" or "higher" than the chapter's head on a measure only if
the two ranges of runs are apart by more than the larger of their own spreads
and a floor (for accuracy, two test sentences); otherwise the page says they
do not differ.
"""

from __future__ import annotations

import numpy as np


def differ(mine, other, floor: float) -> int:
    """+1 if other's runs lie above mine by a margin, −1 if below, 0 if they do not differ.

    The margin is the larger of floor and the spread (max − min) of either set.
    """
    mine, other = np.asarray(mine, dtype=float), np.asarray(other, dtype=float)
    margin = max(floor, np.ptp(mine), np.ptp(other))
    if other.min() - mine.max() > margin:
        return 1
    if mine.min() - other.max() > margin:
        return -1
    return 0


def span(values, fmt: str) -> str:
    """'0.53' for runs that agree to the shown digits, else '0.45–0.48'."""
    lo, hi = format(min(values), fmt), format(max(values), fmt)
    return lo if lo == hi else f"{lo}–{hi}"


def describe(name: str, mine, other, floor: float, fmt: str, words: tuple[str, str]) -> tuple[int, str]:
    """(differ(...), a clause in Chinese): name's range beside mine's, and 'words[0]' / 'words[1]' / 没有差别."""
    sign = differ(mine, other, floor)
    verdict = {1: words[0], -1: words[1], 0: "没有差别（不大于种子之间的差别）"}[sign]
    return sign, f"{name} {span(other, fmt)}（本章的头 {span(mine, fmt)}）：{verdict}"


def shortcut_verdict(signs: dict[str, tuple[int, int]]) -> str:
    """Chapter 4 §5's conclusion from each variant's (accuracy sign, cue-share sign) as `differ` gives them.

    A shortcut is named only where both fell by a margin: attention left the
    cue words and held-out accuracy dropped.
    """
    shortcut = [name for name, (acc, cue) in signs.items() if acc < 0 and cue < 0]
    lowered = [name for name, (acc, _) in signs.items() if acc < 0]
    if shortcut:
        return f"「{'」「'.join(shortcut)}」让注意力离开了线索词，测试集准确率也更低：头找到了别的办法猜对训练句。"
    if lowered:
        return (f"「{'」「'.join(lowered)}」的测试集准确率更低，但落在线索词上的注意力没有明显更少："
                "本页的数字不足以说明那是捷径。")
    return "两种改动都没有让测试集准确率明显变低：在本页的数字上，看不出头因为这两处改动走了捷径。"
