"""The head that learns: hand-derived gradients against autograd, reproducibility, the corpus, errors."""

import math
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
import torch

import attn_steps as ats
from attn_steps import corpus as corpus_module
from attn_steps import head_cache
from attn_steps import training as tr

from .conftest import TEXT1, TEXT2


def random_batch(seed=0, B=5, n=7, d=6, self_attend=False) -> tr.Encoded:
    """Sentences of different lengths, padded: the masks are what makes the gradient tricky."""
    rng = np.random.default_rng(seed)
    lengths = rng.integers(2, n + 1, size=B)
    lengths[0] = n
    X = rng.standard_normal((B, n, d))
    allowed = np.arange(n)[None, :] < lengths[:, None]
    X[~allowed] = 0.0
    target = np.array([rng.integers(0, L) for L in lengths])
    allowed[np.arange(B), target] = self_attend
    y = rng.integers(0, 2, size=B).astype(float)
    return tr.Encoded(X, allowed, target, y, tuple(("t",) * L for L in lengths))


def random_params(seed=1, d=6, d_k=4, d_v=3) -> tr.Params:
    rng = np.random.default_rng(seed)
    return tr.Params(rng.standard_normal((d, d_k)), rng.standard_normal((d, d_k)), rng.standard_normal((d, d_v)),
                     rng.standard_normal(d_v), float(rng.standard_normal()))


def torch_loss(p: tr.Params, e: tr.Encoded, l2: float, l2_scores: float):
    """The same model written with torch's own ops, for autograd to differentiate."""
    Wq, Wk, Wv, u, b = (torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in p.arrays())
    X = torch.tensor(e.X)
    x = X[torch.arange(len(e.target)), torch.tensor(e.target)]
    s = torch.einsum("bk,bnk->bn", x @ Wq, X @ Wk) / math.sqrt(p.Wq.shape[1])
    w = torch.softmax(s.masked_fill(~torch.tensor(e.allowed), float("-inf")), dim=-1)
    logit = torch.einsum("bn,bnv->bv", w, X @ Wv) @ u + b
    bce = torch.nn.functional.binary_cross_entropy_with_logits(logit, torch.tensor(e.y))
    value = bce + l2_scores / 2 * sum((a * a).sum() for a in (Wq, Wk)) + l2 / 2 * sum((a * a).sum() for a in (Wv, u))
    value.backward()
    return value.item(), [a.grad.numpy() for a in (Wq, Wk, Wv, u, b)]


@pytest.mark.parametrize("self_attend", [False, True])
@pytest.mark.parametrize("l2, l2_scores", [(0.0, 0.0), (0.01, 0.01), (0.01, 0.1)])
def test_gradients_equal_torch_autograd(self_attend, l2, l2_scores):
    """If the hand-derived backward pass were wrong, the chapter's training would be a fake."""
    e, p = random_batch(self_attend=self_attend), random_params()
    value, g = tr.gradients(p, e, l2, l2_scores=l2_scores)
    expected_value, expected = torch_loss(p, e, l2, l2_scores)
    assert value == pytest.approx(expected_value, abs=1e-12)
    for name, ours, theirs in zip(["Wq", "Wk", "Wv", "u", "b"], g.arrays(), expected):
        np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-8, err_msg=name)


def test_gradients_equal_central_finite_differences():
    e, p = random_batch(seed=3), random_params(seed=4)
    _, g = tr.gradients(p, e, l2=0.01)
    h = 1e-6
    for name in ("Wq", "Wk", "Wv", "u"):
        a = getattr(p, name)
        for index in [(0,) * a.ndim, tuple(s - 1 for s in a.shape), tuple(s // 2 for s in a.shape)]:
            plus, minus = a.copy(), a.copy()
            plus[index] += h
            minus[index] -= h
            numeric = (tr.gradients(replace(p, **{name: plus}), e, 0.01)[0]
                       - tr.gradients(replace(p, **{name: minus}), e, 0.01)[0]) / (2 * h)
            assert getattr(g, name)[index] == pytest.approx(numeric, abs=1e-7), f"{name}{index}"
    numeric_b = (tr.gradients(replace(p, b=p.b + h), e, 0.01)[0] - tr.gradients(replace(p, b=p.b - h), e, 0.01)[0]) / (2 * h)
    assert g.b == pytest.approx(numeric_b, abs=1e-7)


def test_blocked_and_padded_keys_get_no_weight_and_no_gradient():
    e, p = random_batch(seed=5), random_params()
    f = tr.forward(p, e)
    assert (f.w[~e.allowed] == 0).all()
    np.testing.assert_allclose(f.w.sum(axis=1), 1.0)
    dz, _, _ = tr.readout_backward(p, e, f)
    dw, _ = tr.attend_backward(f, dz)
    assert (tr.softmax_backward(f.w, dw)[~e.allowed] == 0).all()


@pytest.fixture(scope="module")
def corpus():
    return ats.apple_sentences()


@pytest.fixture(scope="module")
def head(corpus):
    return ats.train_head(corpus[corpus.split == "train"], seed=0)


def test_same_seed_gives_the_same_weights_bit_for_bit(corpus, head, monkeypatch):
    """A reader rerunning chapter 4 must get the page's numbers exactly."""
    monkeypatch.delenv(head_cache.CACHE, raising=False)  # trained again, not read back from make test's cache
    again = ats.train_head(corpus[corpus.split == "train"], seed=0)
    for a, b in zip(head.params.arrays(), again.params.arrays()):
        np.testing.assert_array_equal(a, b)
    pd.testing.assert_frame_equal(head.history, again.history)
    other = ats.train_head(corpus[corpus.split == "train"], seed=1, epochs=2)
    assert not np.array_equal(other.initial.Wq, head.initial.Wq)


def test_loss_decreases_and_history_has_one_row_per_epoch(head):
    h = head.history
    assert list(h.columns) == ["loss", "train_accuracy", "test_accuracy"]
    assert list(h.index) == list(range(head.settings["epochs"] + 1))
    assert h["loss"].iloc[0] == pytest.approx(math.log(2)), "a readout of 0 starts at p = 0.5"
    assert h["loss"].iloc[-1] < 0.5 * h["loss"].iloc[0]
    assert h["loss"].iloc[-1] <= h["loss"].iloc[:10].min()


def test_trained_steps_are_the_books_attention_with_the_trained_weights(head):
    """The chapter's heatmaps (ats.self_attention) must show the attention the head was trained with."""
    for text in (TEXT1, TEXT2, "我的苹果手机没电了"):
        s = head.steps(text)
        assert isinstance(s, ats.Steps) and s.W is not None
        row = head.attention_row(text)
        np.testing.assert_allclose(s.weights.loc["苹果"].to_numpy(), row.to_numpy(), rtol=0, atol=1e-12)
        assert row["苹果"] == 0.0, "苹果 may not attend to itself"
        assert s.masked is not None and np.isneginf(s.masked.loc["苹果", "苹果"])


def test_predict_returns_the_sense_and_its_probability(head):
    sense, p = head.predict("我的苹果手机没电了")
    assert sense in ats.SENSES and 0.5 <= p <= 1.0
    e = head.evaluate(pd.DataFrame({"text": ["我的苹果手机没电了"], "sense": [sense]}))
    p_brand = e["p_brand"].iloc[0]
    assert p == pytest.approx(p_brand if sense == "品牌" else 1 - p_brand)


def test_predict_reads_a_sentence_already_cut(head):
    """Chapter 4 reads its §7 sentences as the site's text field cuts them (wordvecs.field_tokens): the same
    tokens must give head.predict's verdict on the text, other tokens their own, and no 苹果 a clear error."""
    text = "外公捎来两箱苹果"
    assert head.predict(corpus_module.head_tokens(text)) == head.predict(text)
    assert head.predict(["外", "公", "捎", "来", "两", "箱", "苹果"]) != head.predict(text)
    with pytest.raises(ValueError, match="苹果"):
        head.predict(["外公", "两箱"])
    with pytest.raises(TypeError, match="tokens"):
        head.predict(42)


def test_untrained_head_predicts_one_half(head):
    before = head.untrained()
    assert before.predict(TEXT1)[1] == 0.5
    np.testing.assert_array_equal(before.weights.Wq, head.initial.Wq)


def test_fused_apple_is_split_out_as_the_target():
    assert corpus_module.apple_tokens("我的苹果手机没电了") == ["我", "的", "苹果", "手机", "没电", "了"]
    assert corpus_module.apple_tokens(TEXT1)[-1] == "苹果"
    tokens = corpus_module.apple_tokens("他爱喝苹果汁")
    assert tokens.count("苹果") == 1 and "".join(tokens) == "他爱喝苹果汁"


def test_cue_words_allow_another_segmentation():
    assert tr.is_cue("手机", ["手机"]) and tr.is_cue("新鲜水果", ["水果"]) and tr.is_cue("果", ["水果"])
    assert not tr.is_cue("苹果", ["苹果"]) and not tr.is_cue("我", ["手机"])


# ---- the corpus -------------------------------------------------------------


def char_bigrams(text: str) -> set[str]:
    text = "".join(c for c in text.replace("苹果", "") if c.isalnum())
    return {text[i:i + 2] for i in range(len(text) - 1)}


def test_corpus_has_the_promised_shape(corpus):
    """If this broke, chapter 4's counts and its held-out figures would mean something else."""
    assert list(corpus.columns) == ["text", "sense", "cues", "split"]
    assert len(corpus) >= 200 and corpus["text"].is_unique
    assert set(corpus["sense"]) == set(ats.SENSES) and set(corpus["split"]) == {"train", "test"}
    assert 0.45 <= (corpus["sense"] == "水果").mean() <= 0.55
    assert (corpus["split"] == "test").mean() >= 0.30
    held_out = corpus.set_index("text")["split"]
    assert held_out[TEXT1] == "test" and held_out[TEXT2] == "test"
    assert corpus["text"].str.count("苹果").eq(1).all()


def test_every_cue_is_a_token_of_its_sentence(corpus):
    for text, cues in zip(corpus["text"], corpus["cues"]):
        tokens = corpus_module.apple_tokens(text)
        assert cues, f"{text!r} lists no cue"
        assert set(cues) <= set(tokens) - {"苹果"}, f"{text!r}: cues {cues} not among {tokens}"


def test_held_out_sentences_are_new_not_near_copies(corpus):
    train = [char_bigrams(t) for t in corpus.loc[corpus.split == "train", "text"]]
    for text in corpus.loc[corpus.split == "test", "text"]:
        mine = char_bigrams(text)
        closest = max(len(mine & other) / len(mine | other) for other in train)
        assert closest <= 0.45, f"{text!r} is a near-copy of a training sentence (bigram Jaccard {closest:.2f})"


def test_held_out_cue_words_were_seen_in_training(corpus):
    """If this broke, held-out accuracy would measure words the head never saw, not what it learned."""
    seen = {cue for cues in corpus.loc[corpus.split == "train", "cues"] for cue in cues}
    held_out = [cue for cues in corpus.loc[corpus.split == "test", "cues"] for cue in cues]
    assert sum(cue in seen for cue in held_out) / len(held_out) >= 0.9
    for text, cues in zip(corpus.loc[corpus.split == "test", "text"], corpus.loc[corpus.split == "test", "cues"]):
        assert seen & set(cues), f"{text!r}: none of its cues {cues} is a training cue"


def test_the_head_reads_words_not_punctuation():
    assert tr.head_tokens("苹果洗好了，你吃吧。") == ["苹果", "洗好", "了", "你", "吃", "吧"]
    X = tr.features(["我", "苹果"], dim=96, context=False)
    for half in (X.iloc[:, :96], X.iloc[:, 96:]):  # the word's vector and its characters', each layer-normalised
        np.testing.assert_allclose(half.mean(axis=1), 0, atol=1e-12)
        np.testing.assert_allclose((half * math.sqrt(2)).var(axis=1, ddof=0), 1, atol=1e-3)


# ---- bad input --------------------------------------------------------------


def test_sentence_without_apple_is_refused(head):
    with pytest.raises(ValueError, match="has no 苹果"):
        head.predict("我喜欢吃香蕉")
    with pytest.raises(ValueError, match="has no 苹果"):
        head.steps("我喜欢吃香蕉")
    with pytest.raises(TypeError, match="str"):
        head.predict(["我的苹果"])


@pytest.mark.parametrize("make, error, match", [
    (lambda c: c.iloc[:0], ValueError, "empty"),
    (lambda c: c[c.sense == "水果"], ValueError, "only the sense '水果'"),
    (lambda c: c.assign(sense=c.sense.replace("品牌", "公司")), ValueError, r"unknown sense labels \['公司'\]"),
    (lambda c: c.drop(columns="sense"), ValueError, "lacks the column"),
    (lambda c: c.to_dict(), TypeError, "DataFrame"),
    (lambda c: c, ValueError, "held-out test split"),
])
def test_bad_corpus_gets_a_clear_error(corpus, make, error, match):
    train = corpus[corpus.split == "train"] if match != "held-out test split" else corpus
    with pytest.raises(error, match=match):
        ats.train_head(make(train), epochs=1)


@pytest.mark.parametrize("kwargs, match", [
    ({"d_k": 0}, "d_k"), ({"seed": -1}, "seed"), ({"l2_scores": -1}, "l2_scores"), ({"dim": 97}, "between 1 and 96"), ({"lr": 0}, "lr"),
    ({"epochs": 2.5}, "epochs"),
])
def test_bad_settings_are_refused(corpus, kwargs, match):
    with pytest.raises((ValueError, TypeError), match=match):
        ats.train_head(corpus[corpus.split == "train"], **kwargs)


def test_the_shipped_split_is_what_the_documented_procedure_chooses(corpus):
    """If this broke, apple_sentences.md and tools/split_apple_sentences.py would describe another split."""
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parent.parent / "tools" / "split_apple_sentences.py"
    spec = importlib.util.spec_from_file_location("split_apple_sentences", path)
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    shipped = pd.read_csv(tool.CORPUS, dtype=str, keep_default_na=False)
    assert tool.choose_split(shipped) == corpus["split"].tolist()


def test_the_step_size_falls_along_half_a_cosine():
    """Training ends with tiny steps, in a minimum: a rounding difference cannot pick where it stops."""
    steps = [tr.cosine_lr(0.03, t, 300) for t in range(1, 301)]
    assert steps[0] == 0.03 and steps[-1] < 1e-5 and all(a > b for a, b in zip(steps, steps[1:]))
    assert tr.cosine_lr(0.03, 151, 300) == pytest.approx(0.015)


def test_each_word_carries_the_mean_of_its_characters():
    """chars=True: 手机 and 耳机 share the 机 half of the characters' mean; the row keeps one vector's length."""
    X = tr.features(["手机", "耳机", "苹果"], 96, False)
    assert X.shape == (3, 192) and list(X.columns[96:98]) == ["字0", "字1"]
    chars = ats.embed(["手", "机"], dim=96, context=False).to_numpy().mean(axis=0)
    expected = ats.layer_norm(pd.DataFrame([chars])).to_numpy()[0] / math.sqrt(2)
    np.testing.assert_allclose(X.iloc[0, 96:].to_numpy(), expected, atol=1e-12)
    np.testing.assert_allclose((X.to_numpy() ** 2).sum(axis=1), 96, rtol=1e-4)  # as one layer-normalised row
    words_only = tr.features(["手机", "耳机", "苹果"], 96, False, chars=False)
    np.testing.assert_allclose(X.iloc[:, :96].to_numpy(), words_only.to_numpy() / math.sqrt(2), atol=1e-12)


def test_a_head_without_characters_reads_word_vectors_only(corpus):
    head = ats.train_head(corpus[corpus.split == "train"], seed=0, chars=False, epochs=3)
    assert head.weights.d_model == 96 and head.steps("我喜欢的水果是橙子和苹果").X.shape[1] == 96


def test_calibration_counts_verdicts_and_right_ones_per_bin_of_p():
    """If this broke, chapter 4 would tell readers how often a sure verdict is right with wrong counts."""
    evaluated = pd.DataFrame({"p_brand": [0.999, 0.001, 0.995, 0.6, 0.3, 0.95, 0.5, 1.0, 0.0],
                              "correct": [True, True, False, True, False, True, True, False, True]})
    # verdict p:                        0.999  0.999  0.995  0.6   0.7    0.95  0.5   1.0    1.0
    got = tr.calibration(evaluated)
    assert got[["lo", "hi"]].values.tolist() == [[0.5, 0.9], [0.9, 0.99], [0.99, 1.0]]
    assert got["sentences"].tolist() == [3, 1, 5] and got["correct"].tolist() == [2, 1, 3]
    assert got["accuracy"].tolist() == [2 / 3, 1.0, 0.6]
    empty = tr.calibration(evaluated.iloc[:0])
    assert empty["sentences"].tolist() == [0, 0, 0] and empty["accuracy"].isna().all()


def test_a_cached_head_is_bit_identical_to_a_fresh_one_and_only_used_when_asked(corpus, tmp_path, monkeypatch):
    """If this broke, make test could check a stale or different head than a reader's run trains,
    or a reader's notebook would read heads from a folder it never asked for."""
    train = corpus[corpus.split == "train"]
    monkeypatch.delenv(head_cache.CACHE, raising=False)
    fresh = ats.train_head(train, seed=2, dim=8, epochs=4)
    monkeypatch.setenv(head_cache.CACHE, str(tmp_path))
    first = ats.train_head(train, seed=2, dim=8, epochs=4)
    assert len(list(tmp_path.glob("head-*.pickle"))) == 1
    with monkeypatch.context() as m:
        m.setattr(tr, "adam", lambda *a, **k: pytest.fail("a cached head was trained again"))
        cached = ats.train_head(train, seed=2, dim=8, epochs=4)
    for head in (first, cached):
        for a, b in zip([*fresh.params.arrays(), *fresh.initial.arrays()], [*head.params.arrays(), *head.initial.arrays()]):
            assert np.asarray(a).tobytes() == np.asarray(b).tobytes()
        pd.testing.assert_frame_equal(head.history, fresh.history, check_exact=True)
        assert (head.settings, head.source) == (fresh.settings, fresh.source)
    # Anything that changes the result is another key: a setting, a label, a word's vector.
    flipped = train.assign(sense=train["sense"].where(train.index != train.index[0], "水果" if train["sense"].iloc[0] == "品牌" else "品牌"))
    ats.train_head(train, seed=3, dim=8, epochs=4)
    ats.train_head(flipped, seed=2, dim=8, epochs=4)
    features = tr.features
    with monkeypatch.context() as m:
        m.setattr(tr, "features", lambda *a, **k: features(*a, **k) * (1 + 1e-15))
        ats.train_head(train, seed=2, dim=8, epochs=4)
    assert len(list(tmp_path.glob("head-*.pickle"))) == 4
    monkeypatch.delenv(head_cache.CACHE)
    with monkeypatch.context() as m:
        m.setattr(tr, "adam", lambda *a, **k: pytest.fail("trained, as it must be"))
        with pytest.raises(pytest.fail.Exception, match="trained, as it must be"):
            ats.train_head(train, seed=2, dim=8, epochs=4)
