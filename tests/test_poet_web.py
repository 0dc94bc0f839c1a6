"""The poet's weights as site files and its widget's HTML (attn_steps/poet_web.py).

If these fail, the browser would compute with other numbers than `poet.read_weights`
(so its probabilities and poems would differ from Python's), the page would not
know which model it was built with, or the build would not write the files.
The model here is a small random one written as tools/train_poet.py writes its
output (int8, packed 10- and 12-bit and float16 matrices, float32 scales and vectors), so no test waits for a training run.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import attn_steps as ats
from attn_steps import poet as poet_module
from attn_steps import poet_web, poet_weights

from tools.poet_random import CONFIG, write_tiny_poet

@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> Path:
    return write_tiny_poet(tmp_path_factory.mktemp("tiny-poet"), float16=["transformer.wpe.weight"])


def test_site_files_give_read_weights_bit_for_bit(tiny, tmp_path):
    """If this broke, the browser would run on numbers that differ from Python's, and its poems would too."""
    sizes = poet_web.export_site(tmp_path, tiny)
    ours, theirs = poet_module.read_weights(tiny / "weights.npz"), poet_web.read_site(tmp_path)
    assert sorted(ours) == sorted(theirs)
    for name, a in ours.items():
        assert a.shape == theirs[name].shape and np.array_equal(a.view(np.uint64), theirs[name].view(np.uint64)), name
    manifest = json.loads((tmp_path / "poet.json").read_text(encoding="utf-8"))
    assert manifest["model_id"] == poet_web.model_id(tiny / "weights.npz")
    assert manifest["config"] == CONFIG and len(manifest["vocab"]) == CONFIG["vocab_size"]
    assert all(t["offset"] % 4 == 0 for t in manifest["tensors"])  # every float32 readable where it starts
    assert {t["kind"] for t in manifest["tensors"]} == set(poet_weights.KINDS)  # every kind the page decodes
    assert sizes["poet.bin"] == (tmp_path / "poet.bin").stat().st_size == manifest["bytes"]
    with np.load(tiny / "weights.npz") as z:  # the bytes are weights.npz's, not re-rounded
        assert sizes["poet.bin"] >= sum(z[k].nbytes for k in z.files)


def test_model_id_changes_with_the_weights(tiny, tmp_path):
    """If this broke, a page built with one model would accept another model's files."""
    other = write_tiny_poet(tmp_path / "other", seed=1)
    assert poet_web.model_id(tiny / "weights.npz") != poet_web.model_id(other / "weights.npz")


def test_widget_carries_what_the_page_needs(tiny):
    """If this broke, the page could not find the weights, check them, draw a head's stages or label its roles."""
    poet = ats.load_poet(tiny)
    roles = pd.DataFrame([dict(role="previous character", layer=0, head=1, score=0.4, untrained=0.08, uniform=0.1),
                          dict(role="punctuation", layer=0, head=1, score=0.5, untrained=0.2, uniform=0.1),
                          dict(role="rhyme", layer=1, head=0, score=0.1, untrained=0.05, uniform=0.04)])
    w = ats.poet_widget(poet, roles=roles, weights=tiny / "weights.npz")
    assert isinstance(w, ats.widget.Widget)
    d = w.data
    assert d["model_id"] == poet_web.model_id(tiny / "weights.npz") and d["folder"] == "_static/attn-poet/"
    assert d["roles"] == {"0,1": ["前一字"]}  # punctuation is 2.5× its untrained score, rhyme 2×: not named
    assert [s["name"] for s in d["stages"]] == ["X", "Q", "K", "V", "scores", "scaled", "masked", "weights", "output"]
    assert d["stages"] == ats.explorer.stage_payload()["stages"] and "床前" in d["openings"]
    for name in (*poet_web.SCRIPTS, *poet_web.STYLES):  # every part inlined, one renderer of a stage for both widgets
        assert ats.widget.shipped((ats.widget.WEB / name).read_text(encoding="utf-8")) in w.html, name
    assert "data-attn-poet" in w.html and "poet.bin" not in d.values()


def test_widget_refuses_weights_of_another_model(tiny, tmp_path):
    """If this broke, a page could promise one model and load another's files without a word."""
    other = write_tiny_poet(tmp_path / "other", seed=2)
    with pytest.raises(ValueError, match="other weights"):
        ats.poet_widget(ats.load_poet(tiny), weights=other / "weights.npz")
    with pytest.raises(TypeError, match="ats.Poet"):
        ats.poet_widget("床前", weights=tiny)
    with pytest.raises(ValueError, match="openings"):
        ats.poet_widget(ats.load_poet(tiny), weights=tiny, openings=["床前明月光，疑是"])
    with pytest.raises(FileNotFoundError, match="train"):
        poet_web.manifest_and_binary(tmp_path / "nowhere" / "weights.npz")


def test_build_writes_the_site_files_once(tiny, tmp_path, monkeypatch):
    """If this broke, the built site would have no weights for the poet (its page would fail on first use),
    or every rebuild would rewrite them."""
    import importlib.util
    import types

    spec = importlib.util.spec_from_file_location("site_tables", Path(poet_web.__file__).parents[1] / "_ext" / "site_tables.py")
    site_tables = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(site_tables)
    monkeypatch.setattr(poet_web, "weights_file", lambda folder=None: tiny / "weights.npz")
    app = types.SimpleNamespace(builder=types.SimpleNamespace(format="html"), outdir=str(tmp_path))
    site_tables._write_poet(app, None)
    out = tmp_path / "_static" / "attn-poet"
    assert json.loads((out / "poet.json").read_text(encoding="utf-8"))["model_id"] == poet_web.model_id(tiny / "weights.npz")
    (out / "poet.bin").write_bytes(b"stale")  # an unchanged rebuild leaves the files alone
    site_tables._write_poet(app, None)
    assert (out / "poet.bin").read_bytes() == b"stale"


def test_head_means_travel_with_the_weights(tiny, tmp_path):
    """If this broke, the page could not remove a head as Python does (its mean output in its place), or would
    take a table of the wrong shape for one."""
    folder = tmp_path / "with-means"
    folder.mkdir()
    for name in ("weights.npz", "model.json"):
        (folder / name).write_bytes((tiny / name).read_bytes())
    info = json.loads((folder / "model.json").read_text(encoding="utf-8"))
    hs = CONFIG["n_embd"] // CONFIG["n_head"]
    means = np.random.default_rng(0).standard_normal((CONFIG["n_layer"], CONFIG["n_head"], hs))
    (folder / "model.json").write_text(json.dumps({**info, "head_means": means.tolist()}), encoding="utf-8")
    manifest, _ = poet_web.manifest_and_binary(folder)
    assert np.array_equal(np.array(manifest["head_means"]), means)  # every float as stored, nothing rounded
    assert "head_means" not in poet_web.manifest_and_binary(tiny)[0]  # a model stored without them: the page says so
    (folder / "model.json").write_text(json.dumps({**info, "head_means": means[:, :, :-1].tolist()}), encoding="utf-8")
    with pytest.raises(ValueError, match="head_size"):
        poet_web.manifest_and_binary(folder)


def effects_table(config=CONFIG):
    rows = [dict(layer=l, head=h, slot=s, delta=-0.01 * (l + h) - (2.5 if (l, h, s) == (1, 1, "韵脚") else 0),
                 intact=-2.0 - k / 10)
            for l in range(config["n_layer"]) for h in range(config["n_head"]) for k, s in enumerate(poet_web.EFFECT_SLOTS)]
    return pd.DataFrame(rows)


def test_widget_carries_the_measured_effects_compactly(tiny):
    """If this broke, the page could not say what removing a head costs, or would carry the whole table."""
    poet = ats.load_poet(tiny)
    effects = effects_table()
    effects.attrs["poems"] = 200
    d = ats.poet_widget(poet, weights=tiny, effects=effects).data["effects"]
    assert d["slots"] == list(poet_web.EFFECT_SLOTS) and d["intact"] == [-2.0, -2.1, -2.2, -2.3, -2.4]
    assert d["delta"]["1,1"][0] == -2.52 and d["delta"]["0,0"] == [0.0] * 5 and len(d["delta"]) == 4
    assert d["poems"] == 200 and d["mode"] == "mean"
    assert len(json.dumps(d, ensure_ascii=False)) < 1000
    assert ats.poet_widget(poet, weights=tiny).data["effects"] is None
    with pytest.raises(TypeError, match="head_effects"):
        ats.poet_widget(poet, weights=tiny, effects=effects.drop(columns="intact"))
    with pytest.raises(ValueError, match="slots"):
        ats.poet_widget(poet, weights=tiny, effects=effects.assign(slot="rhyme"))
    with pytest.raises(ValueError, match="layers 0–1"):
        ats.poet_widget(poet, weights=tiny, effects=effects.assign(layer=effects.layer + 1))


def test_the_rhyme_table_travels_with_the_weights(tiny):
    """If this broke, the page could not mark the rhyme characters of its poems (verse.js has no table of its own),
    or would download groups of characters the model never writes."""
    from attn_steps import verse

    manifest, _ = poet_web.manifest_and_binary(tiny)
    table, vocab = manifest["rhyme"], set(manifest["vocab"])
    assert all(set(chars) <= vocab for chars in table.values())
    for ch in ("光", "霜", "乡", "月"):
        assert sorted(g for g, chars in table.items() if ch in chars) == sorted(verse.rhyme_groups(ch)), ch
    assert len(json.dumps(table, ensure_ascii=False, separators=(",", ":")).encode()) < 20_000
