"""The numbers and sentences chapter 2 uses to say whether its weight panels spread out.

If these break, chapter 2 could caption a nearly one-hot heatmap as "分给了好几个词",
or print "从左到右，权重越来越分散" under panels whose numbers do not fall.
"""

import numpy as np
import pandas as pd
import pytest

import attn_steps as ats
from attn_steps import spread

ONE_HOT = pd.DataFrame(np.eye(4), index=list("abcd"), columns=list("abcd"))
EVEN = pd.DataFrame(np.full((4, 4), 0.25), index=list("abcd"), columns=list("abcd"))
HALF = pd.DataFrame([[0.5, 0.5, 0, 0]] * 4, index=list("abcd"), columns=list("abcd"))


def test_peak_and_entropy_by_hand():
    """One-hot rows: peak 1, entropy 0 bits; even over 4: peak 0.25, 2 bits; half and half: 1 bit."""
    assert ats.row_peak(ONE_HOT).tolist() == [1.0] * 4
    assert ats.row_entropy(ONE_HOT).tolist() == [0.0] * 4
    np.testing.assert_allclose(ats.row_peak(EVEN), 0.25)
    np.testing.assert_allclose(ats.row_entropy(EVEN), 2.0)
    np.testing.assert_allclose(ats.row_entropy(HALF), 1.0)
    assert list(ats.row_entropy(HALF).index) == list("abcd")


def test_entropy_matches_a_direct_formula_on_softmax_rows():
    rng = np.random.default_rng(0)
    w = ats.softmax(pd.DataFrame(rng.normal(size=(5, 7)) * 3))
    p = w.to_numpy()
    np.testing.assert_allclose(ats.row_entropy(w), -(p * np.log(p)).sum(axis=1) / np.log(2), rtol=1e-12)


def test_spreading_panels_are_said_to_spread():
    table = spread.spread({"独热": ONE_HOT, "一半一半": HALF, "平分": EVEN})
    np.testing.assert_allclose(table["words"], [1, 2, 4])
    text = spread.describe(table)
    assert text.startswith("从左到右，权重越来越分散")
    assert "1.00、0.50、0.25" in text and "「平分」" in text and "好几个词" in text and "4.0 个词" in text


@pytest.mark.parametrize("order", [("平分", "独热", "一半一半"), ("一半一半", "一半一半")])
def test_panels_that_do_not_spread_steadily_are_not_said_to(order):
    """Out of order, or two equal panels: the sentence must not claim a steady spread."""
    panels = {"独热": ONE_HOT, "一半一半": HALF, "平分": EVEN}
    table = spread.spread({f"{i}{name}": panels[name] for i, name in enumerate(order)})
    text = spread.describe(table)
    assert "越来越分散" not in text and "并不是每一步都更分散" in text


def test_a_step_below_the_margin_does_not_count():
    nearly = pd.DataFrame([[0.98, 0.02, 0, 0]] * 4, index=list("abcd"), columns=list("abcd"))
    table = spread.spread({"独热": ONE_HOT, "几乎独热": nearly})
    assert not spread.spreads_out(table)  # peak falls by 0.02 < PEAK_MARGIN
    assert "几乎每一行的权重都落在一个词上" in spread.describe(table)
    assert spread.steadily([0, 0.1, 0.2], 0.1) and not spread.steadily([0.2], 0.1)


def test_the_d_k_reading_needs_a_steady_rise_and_a_flat_scaled_row():
    """Chapter 2 §12: "越来越接近独热" and "基本不随 d_k 变化" only when the numbers show it; no TeX in the text."""
    d_ks = [2, 6, 24, 96]
    text = spread.describe_d_k(pd.Series([0.37, 0.57, 0.78, 0.87], d_ks), pd.Series([0.30, 0.33, 0.34, 0.33], d_ks))
    assert "越来越接近独热" in text and "基本不随 d_k 变化" in text and "$" not in text
    text = spread.describe_d_k(pd.Series([0.37, 0.57, 0.55, 0.87], d_ks), pd.Series([0.30, 0.45, 0.34, 0.33], d_ks))
    assert "越来越接近独热" not in text and "基本不随" not in text


def test_the_settings_reading_says_only_what_the_table_shows():
    index = pd.MultiIndex.from_product([["原博客", "W 小", "X 归一", "两处"], ["不缩放", "缩放"]])
    rows = {"原博客": [0.97, 0.96], "W 小": [0.9, 0.76], "X 归一": [0.95, 0.87], "两处": [0.57, 0.33]}
    table = pd.DataFrame([[v] * 4 for name in rows for v in rows[name]], index=index, columns=[2, 6, 24, 96])
    bullets = spread.describe_settings(table, "原博客", ["W 小", "X 归一"], "两处", d_k=6)
    assert "softmax 已经饱和" in bullets[0] and "只改一处不够" in bullets[1] and "$" not in "".join(bullets)
    table.loc[("两处", "缩放")] = 0.72
    bullets = spread.describe_settings(table, "原博客", ["W 小", "X 归一"], "两处", d_k=6)
    assert "只改一处不够" not in bullets[1] and "相差不到" in bullets[1]


def test_the_words_count_says_it_is_the_mean_of_2_to_the_h_and_gives_2_to_the_mean_h():
    """If this broke, chapter 2 would print "平分给约 5.1 个词" beside a mean entropy of 2.29 bits
    (2^2.29 ≈ 4.9) without saying which mean the 5.1 is, and a reader checking it would find it wrong."""
    mixed = pd.DataFrame([[1, 0, 0, 0], [0.25] * 4, [0.25] * 4, [0.5, 0.5, 0, 0]], index=list("abcd"), columns=list("abcd"))
    table = spread.spread({"混合": mixed})
    row = table.iloc[0]
    np.testing.assert_allclose(row["words"], (1 + 4 + 4 + 2) / 4)  # the mean of 2^H, row by row
    np.testing.assert_allclose(row["entropy"], (0 + 2 + 2 + 1) / 4)
    assert 2 ** row["entropy"] < row["words"] - 0.1  # the two means differ here
    text = spread.describe_one("混合", row)
    assert f"约 {row['words']:.1f} 个词" in text and "逐行算 2^H 再取平均" in text
    assert f"2^{row['entropy']:.2f} ≈ {2 ** row['entropy']:.1f}" in text
    assert "2^熵 的平均" in spread.COLUMNS["words"]
