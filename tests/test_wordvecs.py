"""Per-word vectors for typed sentences, and every stage as CSV.

If these fail, a sentence typed on the static site would get vectors other
than the book's embed(..., context=False), numbers further from Python's
than the tests say, tables too heavy for the page, or a half-written folder of CSVs.
"""

from __future__ import annotations

import dataclasses
import gzip
import json

import numpy as np
import pandas as pd
import pytest

import attn_steps as ats
from attn_steps import segmenter as sg
from attn_steps import wordvecs as wv
from attn_steps.attention import steps_to_csv

from .conftest import TEXT1, TEXT2
from .segmenter_tables import head_and_table, site_tables

# Largest change quantisation may make to each stage (d_model 10, d_k 6, seed 0; the stand-in's
# scores reach tens after ÷√d_k, so the softmax is nearly one-hot and amplifies any change).
BOUNDS = {"X": 2e-4, "Q": 2e-3, "K": 2e-3, "V": 2e-3, "scores": 0.06, "scaled": 0.025, "weights": 0.005, "output": 0.06}


@pytest.fixture(scope="module")
def table():
    return site_tables()[1]


@pytest.fixture(scope="module")
def vectors(table):
    return wv.load_table(table, sg.site_dictionary())


def test_batched_vectors_are_embeds_bit_for_bit():
    words = ["苹果", "我", "喜欢", "酸菜鱼", "iPhone", "。", "的"]
    for dim in (10, 96):
        assert np.array_equal(wv.word_vectors(words, dim), ats.embed(words, dim=dim, context=False).to_numpy())


def test_the_fallback_covers_gb2312_and_ascii_and_no_space():
    chars = wv.fallback_chars()
    assert len(chars) == len(set(chars)) and all(len(c) == 1 and not c.isspace() for c in chars)
    hanzi = [c for c in chars if "\u4e00" <= c <= "\u9fff"]
    assert len(hanzi) == 6763 and {"a", "Z", "7", "，", "。", "！", "（"} <= set(chars)
    tokens = wv.table_tokens(["苹果", "我"])
    assert tokens[:2] == ["苹果", "我"] and tokens.count("我") == 1


def test_quantising_moves_each_number_by_at_most_half_a_step():
    V = np.random.default_rng(0).standard_normal((50, 4)) * [1, 10, 0.1, 0]
    q, scale = wv.quantise(V)
    assert q.dtype == np.dtype("<i2") and np.abs(q).max() == 32767
    assert (np.abs(wv.dequantise(q, scale) - V) <= scale / 2 + 1e-15).all()
    assert (wv.dequantise(q, scale)[:, 3] == 0).all()
    with pytest.raises(ValueError, match="finite 2-D"):
        wv.quantise(np.array([1.0, np.nan]))


def test_a_table_comes_back_as_exported_and_refuses_another_dictionary():
    d = sg.prefix_dict([("苹果", 5), ("手机", 3)], total=100)
    table = wv.export_table(d, dim=4)
    back = wv.load_table(table, d)
    assert list(back.index[:2]) == ["苹果", "手机"] and back.shape == (2 + len(table["extra"]), 4)
    exact = ats.embed(["苹果", "手机", "壳"], dim=4, context=False).to_numpy()
    assert np.abs(back.loc[["苹果", "手机", "壳"]].to_numpy() - exact).max() <= max(table["scale"]) / 2 + 1e-12
    with pytest.raises(ValueError, match="another dictionary"):
        wv.load_table(table, sg.prefix_dict([("苹果", 5)], total=100))


def test_a_word_the_table_lacks_is_reported_not_zeroed(vectors):
    X, missing = wv.lookup(["我", "iPhone15", "😀", "苹果"], vectors)
    assert missing == [1, 2]
    assert X.iloc[[1, 2]].isna().all().all() and not X.iloc[[0, 3]].isna().any().any()
    assert list(X.index) == ["我", "iPhone15", "😀", "苹果"] and X.attrs["context"] is False


def test_the_tables_fit_the_budget_on_the_wire(table, capsys):
    sizes = {name: len(gzip.compress(json.dumps(t, ensure_ascii=False, separators=(",", ":")).encode(), 9))
             for name, t in zip(("dictionary", "vectors"), site_tables())}
    with capsys.disabled():
        print("\ntables gzipped: " + ", ".join(f"{k} {v / 1000:.0f} kB" for k, v in sizes.items())
              + f", together {sum(sizes.values()) / 1000:.0f} kB (budget 600 kB)")
    assert sum(sizes.values()) <= 600_000


def test_quantisation_changes_every_stage_by_less_than_its_bound(table, vectors, capsys):
    d = sg.site_dictionary()
    W = ats.init_weights(10, 6, seed=0)
    worst = dict.fromkeys(BOUNDS, 0.0)
    checked = 0
    for text in [TEXT1, TEXT2, *ats.apple_sentences()["text"][::10]]:
        words = [w for w in sg.cut(text, d) if w.strip()]
        X, missing = wv.lookup(words, vectors)
        if missing:  # a Latin run (Windows, iPhone): no vector by design, and lookup says so
            assert all(not "\u4e00" <= words[i][0] <= "\u9fff" for i in missing), [words[i] for i in missing]
            continue
        checked += 1
        exact = ats.self_attention(ats.embed(words, dim=10, context=False), W).stages()
        decoded = ats.self_attention(X, W).stages()
        for stage in BOUNDS:
            worst[stage] = max(worst[stage], float(np.abs(exact[stage].to_numpy() - decoded[stage].to_numpy()).max()))
    with capsys.disabled():
        print("\nlargest change from int16 vectors: " + ", ".join(f"{k} {v:.2g}" for k, v in worst.items()))
    assert worst["X"] <= max(table["scale"]) / 2 + 1e-12
    assert all(worst[k] <= BOUNDS[k] for k in BOUNDS), worst
    assert worst["weights"] > 0  # the table is quantised: a zero change would mean it was not read
    assert checked >= 70


# ---- steps_to_csv ------------------------------------------------------------


@pytest.fixture()
def steps():
    return ats.self_attention(ats.embed(TEXT1, dim=10), ats.init_weights(10, 6, seed=0))


def test_every_stage_becomes_one_labeled_csv(steps, tmp_path):
    paths = steps_to_csv(steps, tmp_path / "out")
    names = [p.stem for p in paths]
    assert names == ["X", "Q", "K", "V", "scores", "scaled", "weights", "output", "Wq", "Wk", "Wv"]
    for name, frame in steps.stages().items():
        back = pd.read_csv(tmp_path / "out" / f"{name}.csv", index_col=0, float_precision="round_trip")
        assert list(back.index) == list(frame.index) and list(map(str, back.columns)) == list(map(str, frame.columns))
        assert np.array_equal(back.to_numpy(), frame.to_numpy())  # every digit: a reader's figures are Python's
    weights = pd.read_csv(tmp_path / "out" / "weights.csv", index_col=0)
    assert weights.index.name == "query" and weights.loc["苹果"].sum() == pytest.approx(1)


def test_a_masked_stage_writes_blocked_cells_as_minus_infinity(tmp_path):
    s = ats.self_attention(ats.embed(TEXT1, dim=10), ats.init_weights(10, 6, seed=0), causal=True)
    steps_to_csv(s, tmp_path / "out")
    masked = pd.read_csv(tmp_path / "out" / "masked.csv", index_col=0, float_precision="round_trip")
    assert masked.iloc[0, 1] == -np.inf and np.isfinite(masked.iloc[1, 0])


def test_a_folder_appears_whole_or_not_at_all(steps, tmp_path, monkeypatch):
    calls = []
    original = pd.DataFrame.to_csv

    def fail_third(self, *args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise OSError("disk full")
        return original(self, *args, **kwargs)

    monkeypatch.setattr(pd.DataFrame, "to_csv", fail_third)
    with pytest.raises(OSError, match="disk full"):
        steps_to_csv(steps, tmp_path / "out")
    assert list(tmp_path.iterdir()) == []  # neither the folder nor a leftover staging folder

    monkeypatch.setattr(pd.DataFrame, "to_csv", original)
    steps_to_csv(steps, tmp_path / "out")
    before = (tmp_path / "out" / "X.csv").read_text(encoding="utf-8")
    calls.clear()
    monkeypatch.setattr(pd.DataFrame, "to_csv", fail_third)
    with pytest.raises(OSError):
        steps_to_csv(steps, tmp_path / "out", overwrite=True)
    assert (tmp_path / "out" / "X.csv").read_text(encoding="utf-8") == before  # the old folder is untouched
    assert [p.name for p in tmp_path.iterdir()] == ["out"]


def test_an_existing_folder_is_replaced_only_when_asked(steps, tmp_path):
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "notes.txt").write_text("mine", encoding="utf-8")
    with pytest.raises(FileExistsError, match="overwrite=True"):
        steps_to_csv(steps, tmp_path / "out")
    steps_to_csv(steps, tmp_path / "out", overwrite=True)
    assert sorted(p.name for p in (tmp_path / "out").iterdir())[0] == "K.csv"
    assert not (tmp_path / "out" / "notes.txt").exists() and [p.name for p in tmp_path.iterdir()] == ["out"]


@pytest.mark.parametrize("call, error, match", [
    (lambda tmp: steps_to_csv("not steps", tmp / "o"), TypeError, "ats.Steps"),
    (lambda tmp: wv.lookup([], None), ValueError, "empty"),
    (lambda tmp: wv.word_vectors(["苹果"], dim=0), ValueError, "dim"),
])
def test_bad_input_gets_a_clear_error(call, error, match, tmp_path):
    with pytest.raises(error, match=match):
        call(tmp_path)


def test_a_file_in_the_way_gets_a_clear_error(steps, tmp_path):
    (tmp_path / "out").write_text("x", encoding="utf-8")
    with pytest.raises(NotADirectoryError, match="is a file"):
        steps_to_csv(steps, tmp_path / "out")


# ---- chapter 4's head, per word ---------------------------------------------------


def test_the_head_from_its_table_agrees_with_predict_and_attention_row(capsys):
    from attn_steps.training import head_tokens

    head, table = head_and_table()
    rows = wv.load_table(table, sg.site_dictionary())
    worst_p = worst_w = 0.0
    skipped = 0
    texts = ats.apple_sentences()["text"]
    for text in texts:
        tokens = head_tokens(text)
        if any(t not in rows.index for t in tokens):  # a word jieba's HMM made up (这箱): not in the table
            skipped += 1
            continue
        sense, p, row = wv.head_verdict(tokens, table, rows)
        assert (sense, pytest.approx(p, abs=2e-3)) == head.predict(text)
        worst_p = max(worst_p, abs(p - head.predict(text)[1]))
        worst_w = max(worst_w, float(np.abs(row.to_numpy() - head.attention_row(text).to_numpy()).max()))
    size = len(gzip.compress(json.dumps(table, ensure_ascii=False, separators=(",", ":")).encode(), 9))
    with capsys.disabled():
        print(f"\nhead table {size / 1000:.0f} kB gzipped; {len(texts) - skipped} sentences: probability within {worst_p:.1g}, "
              f"苹果's attention row within {worst_w:.1g} of head.predict / attention_row")
    assert worst_p < 2e-3 and worst_w < 2e-3 and skipped < len(texts) / 3 and size < 150_000
    corpus = ats.apple_sentences()
    held_out = ats.training.calibration(head.evaluate(corpus[corpus.split == "test"]))
    assert table["calibration"] == held_out[["lo", "hi", "sentences", "correct"]].to_dict("records")
    assert sum(b["sentences"] for b in table["calibration"]) == (corpus.split == "test").sum()
    json.dumps(table["calibration"])  # plain numbers, as the page reads them


def test_the_head_reading_adds_up_and_names_the_word_that_decided():
    """If this broke, the typed head's table would not add up to its verdict, or point at the wrong word."""
    table = {"target": "苹果", "senses": ["水果", "品牌"], "b": -0.5}
    rows = pd.DataFrame({0: [1.0, 0.0, 9.0, 2.0], 1: [3.0, -1.0, 5.0, -4.0]}, index=["爱", "吃", "苹果", "甜"])
    reading = wv.head_reading(["爱", "苹果", "吃", "甜"], table, rows)
    w = np.exp([1.0, 0.0, 2.0]) / np.exp([1.0, 0.0, 2.0]).sum()  # 爱, 吃, 甜: 苹果 is the query
    np.testing.assert_allclose(reading["weight"].to_numpy(), [w[0], 0.0, w[1], w[2]], rtol=0, atol=1e-15)
    assert reading.loc["苹果", "score"] == -np.inf and reading.loc["甜", "vote"] == -4.0
    np.testing.assert_allclose(reading["weight_x_vote"], reading["weight"] * reading["vote"], rtol=0, atol=0)
    sense, p, _ = wv.head_verdict(["爱", "苹果", "吃", "甜"], table, rows)
    logit = reading["weight_x_vote"].sum() - 0.5
    assert sense == "水果" and p == pytest.approx(1 / (1 + np.exp(logit)), abs=1e-15)  # logit < 0
    assert wv.deciding_word(reading, "水果", table["senses"]) == "甜"  # the most negative w × vote
    assert wv.deciding_word(reading, "品牌", table["senses"]) == "爱"
    assert wv.deciding_word(reading.assign(weight_x_vote=-reading["weight_x_vote"].abs()), "品牌", table["senses"]) is None


def test_the_head_table_refuses_what_the_head_cannot_read():
    head, table = head_and_table()
    rows = wv.load_table(table, sg.site_dictionary())
    for tokens, match in ((["我", "喜欢"], "no 苹果"), (["苹果"], "a word besides"), (["苹果", "iPhone15"], "no vector")):
        with pytest.raises(ValueError, match=match):
            wv.head_verdict(tokens, table, rows)
    with pytest.raises(ValueError, match="context=False"):
        wv.export_head_table(dataclasses.replace(head, settings={**head.settings, "context": True}), sg.site_dictionary())


def test_steps_save_their_own_csv(tmp_path):
    """Steps.to_csv is the same export, so a reader can take the numbers of any stage away."""
    steps = ats.self_attention(ats.embed("我喜欢的水果是橙子和苹果", dim=4), ats.init_weights(4, 2))
    paths = steps.to_csv(tmp_path / "mine")
    assert [p.name for p in paths] == [p.name for p in steps_to_csv(steps, tmp_path / "theirs")]
    back = pd.read_csv(tmp_path / "mine" / "weights.csv", index_col=0)
    np.testing.assert_allclose(back.to_numpy(), steps.weights.to_numpy(), rtol=0, atol=1e-15)
