"""Chapter 4 §5 compares variants of its head only through attn_steps.margins.

If these break, the chapter could call two variants different when they are
within the spread of their own seeds (0.53 vs 0.53), or the reverse.
"""

import pytest

from attn_steps import margins


def test_ranges_apart_by_more_than_their_spread_differ():
    assert margins.differ([0.53, 0.54], [0.45, 0.47], floor=0.02) == -1
    assert margins.differ([0.45, 0.47], [0.53, 0.54], floor=0.02) == 1


@pytest.mark.parametrize("other", [[0.53, 0.53], [0.52, 0.55], [0.50, 0.515]])
def test_overlapping_or_close_ranges_do_not_differ(other):
    """Equal, overlapping, and a gap (0.015) below the floor (0.02)."""
    assert margins.differ([0.53, 0.54], other, floor=0.02) == 0


def test_a_wide_spread_raises_the_margin():
    """A gap of 0.05 or more counts for runs that agree, not for runs that spread over 0.10 themselves."""
    assert margins.differ([0.60, 0.60], [0.50, 0.52], floor=0.01) == -1
    assert margins.differ([0.60, 0.60], [0.45, 0.55], floor=0.01) == 0


def test_two_sentences_of_264_are_not_a_difference():
    """Chapter 4's accuracy floor: 232 vs 230 correct of 264 must read as no difference."""
    assert margins.differ([232 / 264], [230 / 264], floor=2 / 264) == 0
    assert margins.differ([232 / 264], [220 / 264], floor=2 / 264) == -1


def test_the_clause_names_both_ranges():
    sign, text = margins.describe("测试集准确率", [0.8788, 0.8864], [0.8902, 0.8902], 2 / 264, ".1%", ("更高", "更低"))
    assert sign == 0 and text == "测试集准确率 89.0%（本章的头 87.9%–88.6%）：没有差别（不大于种子之间的差别）"
    sign, text = margins.describe("x", [0.53, 0.53], [0.40, 0.41], 0.02, ".2f", ("更多", "更少"))
    assert sign == -1 and text.endswith("：更少") and "0.40–0.41" in text


def test_a_shortcut_is_named_only_when_attention_and_accuracy_both_fall():
    assert margins.shortcut_verdict({"上下文向量": (-1, -1), "允许苹果看自己": (0, 0)}).startswith("「上下文向量」让注意力离开了线索词")
    assert "不足以说明那是捷径" in margins.shortcut_verdict({"上下文向量": (-1, 0)})
    assert "看不出头因为这两处改动走了捷径" in margins.shortcut_verdict({"上下文向量": (0, -1), "允许苹果看自己": (1, 0)})
