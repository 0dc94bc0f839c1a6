"""Text -> X: segmentation, labels, the embedding source, and refusals."""

import numpy as np
import pytest

import attn_steps as ats
from attn_steps import embeddings

from .conftest import TEXT1, TEXT2


def test_text1_segments_as_in_the_walkthrough():
    """Chapter 2's rows must be 我 / 喜欢 / 的 / 水果 / 是 / 橙子 / 和 / 苹果."""
    X = ats.embed(TEXT1, dim=10)
    assert list(X.index) == ["我", "喜欢", "的", "水果", "是", "橙子", "和", "苹果"]
    assert X.attrs["tokens"] == list(X.index)
    assert X.shape == (8, 10) and list(X.columns) == list(range(10))
    assert X.dtypes.eq(np.float64).all()
    assert ats.heatmap(X).get_title() == "X  (8×10)"


def test_source_is_named_and_matches_embedding_source():
    """Every page says which embedding produced its numbers."""
    X = ats.embed(TEXT1)
    assert X.attrs["source"] == ats.embedding_source()
    assert X.attrs["source"] in (embeddings.REAL_SOURCE, embeddings.STAND_IN_SOURCE)
    if X.attrs["source"] == embeddings.STAND_IN_SOURCE:
        assert "stand-in" in X.attrs["source"] and "not the trained" in X.attrs["source"]


def test_embeddings_are_deterministic_and_a_prefix_of_the_full_vector():
    a, b = ats.embed(TEXT1, dim=10), ats.embed(TEXT1, dim=96)
    np.testing.assert_array_equal(a.to_numpy(), b.to_numpy()[:, :10])
    np.testing.assert_array_equal(a.to_numpy(), ats.embed(TEXT1, dim=10).to_numpy())


def test_vectors_depend_on_context():
    """Chapter 3's point: 苹果 already differs between the two sentences before attention."""
    x1, x2 = ats.embed(TEXT1, dim=96), ats.embed(TEXT2, dim=96)
    assert "苹果" in x1.index and "苹果" in x2.index
    assert not np.allclose(x1.loc["苹果"], x2.loc["苹果"])


def test_repeated_tokens_stay_separate_rows():
    """The source blog keyed a dict by token, silently dropping the first 我."""
    X = ats.embed("我爱我的家")
    assert list(X.index) == ["我₁", "爱", "我₂", "的", "家"]
    assert X.attrs["tokens"] == ["我", "爱", "我", "的", "家"]
    assert X.index.is_unique


def test_unique_labels_numbers_every_occurrence_of_a_repeat():
    assert ats.unique_labels(["的"] * 11 + ["我"])[-2:] == ["的₁₁", "我"]


def test_by_char_gives_one_token_per_character():
    X = ats.embed("我想吃酸菜鱼", by="char")
    assert list(X.index) == list("我想吃酸菜鱼")


def test_whitespace_is_not_a_token():
    assert list(ats.embed("我 爱 你").index) == ["我", "爱", "你"]


@pytest.mark.parametrize(
    "text,dim,error,match",
    [
        ("", 10, ValueError, "empty"),
        ("   \n", 10, ValueError, "empty"),
        (None, 10, TypeError, "string"),
        (["我", 3], 10, TypeError, "string"),
        (["我", "喜 欢"], 10, ValueError, "whitespace"),
        ([], 10, ValueError, "empty"),
        (b"\xe6\x88\x91", 10, TypeError, "string"),
        (TEXT1, 0, ValueError, "between 1 and 96"),
        (TEXT1, -1, ValueError, "between 1 and 96"),
        (TEXT1, 97, ValueError, "between 1 and 96"),
        (TEXT1, 2.5, TypeError, "whole number"),
    ],
)
def test_bad_input_gets_a_clear_error(text, dim, error, match):
    with pytest.raises(error, match=match):
        ats.embed(text, dim=dim)


def test_bad_options_are_refused():
    with pytest.raises(ValueError, match="by must be"):
        ats.embed(TEXT1, by="sentence")
    with pytest.raises(ValueError, match="model must be"):
        ats.embed(TEXT1, model="en_core_web_sm")


def test_demanding_the_real_model_when_missing_gives_the_install_command(monkeypatch):
    monkeypatch.setattr(embeddings, "_installed_model_version", lambda: None)
    with pytest.raises(ats.ModelNotInstalledError, match="zh_core_web_sm-3.8.0-py3-none-any.whl"):
        ats.embed(TEXT1, model="zh_core_web_sm")
    assert ats.embedding_source() == embeddings.STAND_IN_SOURCE


def test_placeholder_package_on_the_index_is_not_taken_for_the_model(monkeypatch):
    """zh-core-web-sm 999.9.9 on the package index is a name placeholder, not the model."""
    monkeypatch.setattr(embeddings.importlib.util, "find_spec", lambda name: object())
    monkeypatch.setattr(embeddings.importlib.metadata, "version", lambda name: "999.9.9")
    assert embeddings._installed_model_version() is None
    monkeypatch.setattr(embeddings.importlib.metadata, "version", lambda name: "3.8.0")
    assert embeddings._installed_model_version() == "3.8.0"


def test_loading_is_quiet_and_happens_once(capfd):
    """No jieba chatter on stderr (it would show on every page), and one pipeline per process."""
    import subprocess
    import sys

    code = "import attn_steps as ats; ats.embed('我喜欢的水果是橙子和苹果'); ats.embed('相比苹果我更加喜欢国产的华为')"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    ats.embed(TEXT1)
    ats.embed(TEXT2)
    assert embeddings.pipeline.cache_info().currsize == 1


FAKE_MODEL_INIT = '''
import spacy


def load(**overrides):
    # Shaped like the trained pipeline (tokenizer + tok2vec filling doc.tensor), but with another seed.
    nlp = spacy.blank("zh", config={"nlp": {"tokenizer": {"segmenter": "jieba"}}})
    nlp.add_pipe("tok2vec")
    spacy.util.fix_random_seed(123)
    nlp.initialize()
    return nlp
'''

REAL_PATH_CHECK = '''
import json, attn_steps as ats, zh_core_web_sm
from attn_steps import embeddings
X = ats.embed("我喜欢的水果是橙子和苹果", dim=96, model="zh_core_web_sm")
doc = zh_core_web_sm.load()("我喜欢的水果是橙子和苹果")
print(json.dumps({"source": X.attrs["source"], "before": ats.embedding_source(),
                  "same": bool((X.to_numpy() == doc.tensor).all()), "real": embeddings.REAL_SOURCE}))
'''


def test_installed_model_is_used_and_named(tmp_path):
    """Readers with zh_core_web_sm installed (locally or on Binder) must get its token.vector, labeled as such.

    The trained wheel cannot be downloaded here, so a package of the same name
    and version, shaped like the real pipeline, stands in for it.
    """
    import json
    import os
    import subprocess
    import sys

    pkg = tmp_path / "zh_core_web_sm"
    pkg.mkdir()
    (pkg / "__init__.py").write_text(FAKE_MODEL_INIT)
    dist = tmp_path / "zh_core_web_sm-3.8.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: zh_core_web_sm\nVersion: 3.8.0\n")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), os.environ.get("PYTHONPATH", "")])}
    proc = subprocess.run([sys.executable, "-c", REAL_PATH_CHECK], capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    assert report["source"] == report["before"] == report["real"]
    assert report["same"], "token.vector of the installed model must be its doc.tensor row"


def test_segment_gives_the_rows_embed_makes():
    """Chapter 4 finds 苹果 among the words before embedding them; the two must agree."""
    assert ats.segment(TEXT1) == ats.embed(TEXT1).attrs["tokens"]
    assert ats.segment("我 爱 你") == ["我", "爱", "你"]


def test_a_list_of_words_is_embedded_as_given():
    """A reader (and chapter 4) can split a word differently from the segmenter: 苹果手机 -> 苹果 / 手机."""
    X = ats.embed(["我", "的", "苹果", "手机"], dim=5)
    assert X.attrs["tokens"] == ["我", "的", "苹果", "手机"] and X.shape == (4, 5)
    with pytest.raises(ValueError, match="by='char'"):
        ats.embed(["我"], by="char")


def test_without_context_a_word_has_one_row_in_every_sentence():
    """context=False: no neighbour mixes in, so 苹果 is the same row in text1 and text2 (and alone)."""
    a = ats.embed(TEXT1, dim=96, context=False)
    b = ats.embed(TEXT2, dim=96, context=False)
    alone = ats.embed(["苹果"], dim=96, context=False)
    np.testing.assert_array_equal(a.loc["苹果"], b.loc["苹果"])
    np.testing.assert_array_equal(a.loc["苹果"], alone.loc["苹果"])
    assert a.attrs["context"] is False and ats.embed(TEXT1).attrs["context"] is True
    with_context = ats.embed(TEXT1, dim=96)
    assert not np.allclose(with_context.loc["苹果"], a.loc["苹果"])
    assert list(a.index) == list(with_context.index)


def test_word_label_finds_the_word_a_chapter_follows():
    X = ats.embed("我爱我的家我的苹果", dim=4)
    assert ats.word_label(X, "苹果") == "苹果"
    assert ats.word_label(X, "我") == "我₁"  # its first occurrence
    s = ats.self_attention(X, ats.init_weights(4, 2))
    assert ats.word_label(s.weights, "我") == "我₁"


def test_a_segmentation_without_the_word_says_so_instead_of_a_key_error():
    """A character segmenter never yields 苹果: chapters 2-4 must stop with a sentence, not pandas' KeyError."""
    X = ats.embed(TEXT1, dim=4, by="char")
    with pytest.raises(ValueError, match=r"no token '苹果': it gave 我 / 喜 / 欢 .* 苹 / 果"):
        ats.word_label(X, "苹果")
    with pytest.raises(TypeError, match="DataFrame"):
        ats.word_label(X.to_numpy(), "苹果")
