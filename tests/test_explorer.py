"""ats.explore on the Python side: what the HTML carries, its size, and clear errors. tests/test_browser.py runs it."""

import json
import re

import numpy as np
import pytest

import attn_steps as ats
from attn_steps import explorer, widget

from .conftest import TEXT1

TOY_X = [[1, 0, 1, 0], [0, 2, 0, 2], [1, 1, 1, 1]]
TOY_W = ats.Weights([[1, 0, 1], [1, 0, 0], [0, 0, 1], [0, 1, 1]], [[0, 0, 1], [1, 1, 0], [0, 1, 0], [1, 1, 0]],
                    [[0, 2, 0], [0, 3, 0], [1, 0, 3], [1, 1, 0]])


def payload(e: ats.Explorer) -> dict:
    raw = re.search(r'<script type="application/json" data-role="explorer-data">(.*?)</script>', e.html, re.S).group(1)
    return json.loads(raw.replace("<\\/", "</"))


def test_a_sentence_becomes_one_self_contained_explorer():
    e = ats.explore(TEXT1)
    assert e._repr_html_() == e.html
    root = e.html.split("<style>")[0]
    assert root.startswith('<div class="attn-explorer"') and root.count("data-attn-explorer") == 1
    assert e.html.count("<style>") == 1 and e.html.count("<script>") == 1
    # The SVG namespace names a standard, it is never fetched; the only fetch is of the site's own tables.
    code = e.html.replace("http://www.w3.org/2000/svg", "")
    assert not re.search(r"(src|href)=|https?://|import\(", code), "no CDN, no network: everything is inline"
    data = payload(e)
    assert data == e.data
    X = ats.embed(TEXT1, dim=10)
    assert data["tokens"] == list(X.index)
    np.testing.assert_array_equal(np.array(data["X"]), X.to_numpy())  # JSON carries every float exactly
    assert data["settings"] == {"d_k": 6, "seed": 0, "std": 1.0, "scale": True, "temperature": 1.0,
                                "query": list(X.index).index("苹果")}
    assert data["weights"] is None and data["source_short"] == ats.embeddings.SHORT_SOURCE[X.attrs["source"]]
    assert set(data["captions"]) >= {"X", "Q", "K", "V", "scores", "scaled", "weights", "output"}


def test_two_explorers_on_one_page_get_different_ids():
    ids = {re.search(r'id="([^"]+)"', ats.explore(TEXT1).html).group(1) for _ in range(2)}
    assert len(ids) == 2


def test_weight_budget():
    """If this broke, every page with an explorer would carry more script than the issues allow (90 KB, 30 KB data)."""
    code = sum(len(part.encode()) for part in explorer.Explorer.KIND.code())
    assert code <= 90_000, code
    data = len(json.dumps(ats.explore(TEXT1).data, ensure_ascii=False).encode())
    assert data <= 30_000, data


def test_steps_bring_their_weights_and_their_scale():
    s = ats.self_attention(ats.as_frame(TOY_X), TOY_W, scale=False)
    data = ats.explore(s, query="x1").data
    assert data["X"] == TOY_X, "whole numbers stay whole"
    assert data["weights"] == {"本页的权重": {"Wq": TOY_W.Wq.astype(int).tolist(), "Wk": TOY_W.Wk.astype(int).tolist(),
                                           "Wv": TOY_W.Wv.astype(int).tolist()}}
    assert data["settings"] == {"d_k": 3, "scale": False, "temperature": 1.0, "query": 0, "weights": "本页的权重"}
    assert data["source_short"] == explorer.SOURCE_OF_GIVEN_X
    assert ats.explore(ats.self_attention(ats.as_frame(TOY_X), TOY_W)).data["settings"]["scale"] is True


def test_a_masked_steps_carries_its_mask_and_named_weights_switch():
    X = ats.embed(TEXT1, dim=10)
    w1, w2 = ats.init_weights(10, 4, seed=1), ats.init_weights(10, 4, seed=2)
    data = ats.explore(ats.self_attention(X, w1, causal=True), weights={"甲": w1, "乙": w2}).data
    assert list(data["weights"]) == ["甲", "乙"] and data["settings"]["weights"] == "甲"
    assert np.array_equal(np.array(data["mask"]), np.tril(np.ones((8, 8), dtype=bool)))


@pytest.mark.parametrize("call, error, match", [
    (lambda: ats.explore(""), ValueError, "empty"),
    (lambda: ats.explore(42), TypeError, "sentence"),
    (lambda: ats.explore(TEXT1, d_k=0), ValueError, "d_k"),
    (lambda: ats.explore(TEXT1, d_k=97), ValueError, "at most 96"),
    (lambda: ats.explore(TEXT1, temperature=0), ValueError, "temperature"),
    (lambda: ats.explore(TEXT1, temperature=float("nan")), ValueError, "temperature"),
    (lambda: ats.explore(TEXT1, seed=-1), ValueError, "seed"),
    (lambda: ats.explore(TEXT1, std=0), ValueError, "std"),
    (lambda: ats.explore(TEXT1, query="香蕉"), ValueError, "not one of the tokens"),
    (lambda: ats.explore(TEXT1, weights="trained"), TypeError, "Weights"),
    (lambda: ats.explore(TEXT1, weights=ats.init_weights(12, 4)), ValueError, "12 numbers per token"),
    (lambda: ats.explore(np.zeros((65, 4))), ValueError, "at most 64 tokens"),
])
def test_bad_input_gets_a_clear_error(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_the_script_never_prints_what_the_site_check_reads_as_an_error():
    """tests/test_site.py fails a page whose output says 'Error:' or 'Warning:'; the explorer's HTML is an output."""
    html = ats.explore(TEXT1).html
    assert "Error:" not in html and "Warning:" not in html and "Traceback" not in html


def test_the_page_gets_the_table_of_stages_colours_and_text_rule():
    """If this broke, the explorer would title, caption or colour a stage otherwise than the book's figures."""
    data = ats.explore(TEXT1).data
    assert [row["name"] for row in data["stages"]] == [row.name for row in ats.stages.STAGES]
    assert data["stages"][7]["formula"] == ats.stages.STAGE["weights"].formula
    assert data["colours"] == {"signed": ats.stages.colour_stops("signed"), "prob": ats.stages.colour_stops("prob")}
    assert data["text_colour"] == ats.stages.TEXT_COLOUR and data["formula_parts"] == ats.stages.FORMULA_PARTS


def test_a_steps_brings_its_temperature_unless_one_is_given():
    s = ats.self_attention(ats.as_frame(TOY_X), TOY_W, temperature=2.0)
    assert ats.explore(s).data["settings"]["temperature"] == 2.0
    assert ats.explore(s, temperature=0.5).data["settings"]["temperature"] == 0.5


def test_shipped_code_drops_only_whole_comment_lines():
    """If this broke, a page could carry a script cut in the middle of a string or a comment."""
    source = 'const a = "//x"; // keep\n  // gone\n/* gone\n   gone */\nconst b = `\n  /x/`;\n'
    assert widget.shipped(source) == 'const a = "//x"; // keep\nconst b = `\n/x/`;'


def test_a_text_field_only_where_the_sites_tables_fit():
    """If this broke, a page would offer typing where the typed vectors cannot fit its weights."""
    assert ats.explore(TEXT1).data["typing"]["mode"] == "vectors"
    assert ats.explore(TEXT1).data["typing"]["files"] == ["segmenter-dict.json", "wordvecs-d10.json"]
    assert ats.explore(TEXT1, dim=8).data["typing"] is None
    assert ats.explore(ats.as_frame(TOY_X)).data["typing"] is None
    with pytest.raises(TypeError, match="ats.train_head"):
        ats.explore(TEXT1, head="a head")


def test_each_browser_file_reads_in_one_sitting():
    """If this broke, a browser file would have grown past what a reader holds in their head (about 300 lines):
    the explorer's stage renderer, navigator and controls are parts of their own that other widgets share."""
    for path in sorted(widget.WEB.glob("*.js")):
        lines = len(path.read_text(encoding="utf-8").splitlines())
        assert lines <= 340, f"{path.name} has {lines} lines"


def test_every_browser_file_is_shipped_by_a_widget():
    """If this broke, a file in attn_steps/web would be dead code that no page inlines (or live.py loads)."""
    from attn_steps import live, poet_web
    from attn_steps.tile_widget import TileWidget

    used = {live.ESM}  # the live widget in Jupyter
    for kind in (explorer.Explorer.KIND, poet_web.PoetWidget.KIND, TileWidget.KIND):
        used |= set(kind.scripts) | set(kind.styles)
    assert sorted(p.name for p in widget.WEB.iterdir() if p.suffix in (".js", ".css") and p.name not in used) == []
