"""The widgets' live form for Jupyter front ends (attn_steps/widget.py, attn_steps/live.py), in Python.

If these fail, a notebook would show a widget whose page differs from the site's (other data,
other scripts), or the kernel would answer the page's requests for files with other bytes than
the site serves (the poet would run another model, the text field other tables), or with a
traceback instead of a message. tests/test_lab.py runs the same widgets in JupyterLab.
"""

from __future__ import annotations

import json

import pytest

import attn_steps as ats
from attn_steps import live, poet_web, typing_tables
from attn_steps.widget import shipped

VIEW = "application/vnd.jupyter.widget-view+json"


def answers(widget, *names) -> list[tuple[dict, list]]:
    """What the live widget sends back for each requested name: (message, buffers)."""
    w = live.live_class().of(widget)
    sent = []
    w.send = lambda content, buffers=None: sent.append((content, buffers or []))
    for k, name in enumerate(names):
        w._answer(w, {"file": name, "ask": k}, [])
    assert [m["ask"] for m, _ in sent] == list(range(len(names)))
    return sent


@pytest.fixture(scope="module")
def explorer():
    return ats.explore("我喜欢的水果是橙子和苹果")


def test_a_widget_offers_its_page_html_and_a_live_view(explorer):
    bundle = explorer._repr_mimebundle_()
    assert bundle["text/html"] == explorer.html == explorer._repr_html_()
    assert bundle["text/plain"] == repr(explorer)
    assert set(bundle[VIEW]) >= {"model_id", "version_major"}


def test_the_live_widget_carries_the_pages_own_div_and_scripts(explorer):
    w = live.live_class().of(explorer)
    js, css = explorer.KIND.code()
    assert w.code == js and w.css == css and w.starter == "AttnExplorer" and w.kind == "explorer"
    assert f"<script>{js}</script>" in explorer.html and f"<style>{css}</style>" in explorer.html
    body_data = w.body.split('data-role="explorer-data">', 1)[1].split("</script>", 1)[0]
    assert json.loads(body_data) == json.loads(json.dumps(explorer.data))
    assert "<script>" not in w.body  # the page's scripts run once per page (live.js), not per output
    for name in explorer.KIND.scripts:  # every script as the page inlines it
        assert shipped((live.Path(live.__file__).parent / "web" / name).read_text(encoding="utf-8")) in w.code


def test_the_kernel_sends_the_text_fields_tables_as_the_site_has_them(explorer):
    names = [typing_tables.TABLES + f for f in explorer.data["typing"]["files"]]
    sent = answers(explorer, *names, "_static/attn-tables/other.json", "../../etc/passwd")
    for (message, buffers), name in zip(sent, names):
        assert buffers == [typing_tables.table(name.rsplit("/", 1)[1])] and message["bytes"] == len(buffers[0])
    for message, buffers in sent[len(names):]:
        assert buffers == [] and message["error"].startswith("内核里没有")


def test_the_kernel_sends_the_book_font_to_every_widget(explorer):
    (message, buffers), = answers(explorer, live.FONT)
    assert buffers[0] == ats.fonts.shipped_font_path().read_bytes()
    assert buffers[0][:4] == b"OTTO"  # an OpenType font the browser's FontFace reads


def test_the_kernel_sends_the_poets_weights_as_the_site_writes_them(tmp_path):
    poet = ats.load_poet()
    widget = poet_web.poet_widget(poet)
    sizes = poet_web.export_site(tmp_path)
    sent = answers(widget, poet_web.FOLDER + poet_web.MANIFEST, poet_web.FOLDER + poet_web.BINARY, poet_web.FOLDER + "x.bin")
    assert sent[0][1] == [(tmp_path / poet_web.MANIFEST).read_bytes()]
    assert sent[1][1] == [(tmp_path / poet_web.BINARY).read_bytes()] and len(sent[1][1][0]) == sizes[poet_web.BINARY]
    assert json.loads(sent[0][1][0])["model_id"] == widget.data["model_id"]
    assert sent[2][1] == [] and "x.bin" in sent[2][0]["error"]


def test_a_failing_file_gets_a_message_not_a_traceback(explorer):
    class Broken(type(explorer)):
        def serve(self, name):
            raise OSError("disk gone")

    broken = Broken(explorer.html, explorer.data)
    (message, buffers), = answers(broken, "_static/attn-tables/segmenter-dict.json")
    assert buffers == [] and message["error"] == "内核读取 _static/attn-tables/segmenter-dict.json 时出错：OSError: disk gone"


def test_a_widget_without_a_text_field_serves_no_tables():
    tiles = ats.tile_widget(ats.embed("我喜欢的水果是橙子和苹果", dim=10), ats.init_weights(10, 6, seed=0))
    hand = ats.explore(ats.embed("我喜欢苹果", dim=8))
    for widget in (tiles, hand):
        (message, buffers), = answers(widget, "_static/attn-tables/segmenter-dict.json")
        assert buffers == [] and "error" in message
