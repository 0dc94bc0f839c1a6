"""explorer_export.js in headless Chromium: a stage taken away as CSV, SVG or PNG says what Python says.

If these fail, a reader who saves a stage from the explorer gets a CSV that
differs from `Steps.to_csv` for the same numbers, an SVG that does not parse
or lacks a label, a PNG without Chinese glyphs, or no file at all. The page is
a bare one with the script and the project's CJK font as a web font (as the
site's pages have it); the figure models are built here from real
`attn_steps` results, unmasked and causal, as the explorer builds them.
"""

from __future__ import annotations

import base64
import io
import shutil
import struct
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import attn_steps as ats

from tools import browser
from .conftest import TEXT1, require_browser

pytestmark = pytest.mark.browser

PACKAGE = Path(ats.__file__).resolve().parent
ROOT = PACKAGE.parent
SCREENSHOTS = ROOT / "_build" / "screenshots" / "export"
FONT = "NotoSansCJKsc-Regular-GB2312.otf"
# The script twice: loading it again must keep the first AttnExport.
PAGE = f"""<!doctype html><meta charset="utf-8"><title>export</title><link rel="icon" href="data:,">
<style>@font-face {{ font-family: "Book CJK"; src: url("{FONT}") format("opentype"); }}
body {{ font-family: "Book CJK", sans-serif; }}</style><body>
<script src="explorer_export.js"></script><script>window.first = AttnExport;</script>
<script src="explorer_export.js"></script>
<script>const M = (m) => (m && Array.isArray(m.values)
  ? {{...m, values: m.values.map((row) => row.map((v) => (v === null ? -Infinity : v)))}} : m);</script></body>"""


# WebDriver's JSON has no -Infinity: a blocked cell travels as null and M() on the page turns it back.
def js(model: dict) -> dict:
    return {**model, "values": [[None if v == -np.inf else v for v in row] for row in model["values"]]}


FONTS_READY = """
const done = arguments[arguments.length - 1];
document.fonts.load('13px "Book CJK"', "我喜欢").then((f) => done(f.length)).catch((e) => done(String(e)));
"""


def steps(causal: bool):
    X = ats.embed(TEXT1, dim=10)
    return ats.self_attention(X, ats.init_weights(10, 6, seed=0), causal=causal)


def _fmt(v: float) -> str:
    return "−∞" if v == -np.inf else (f"{v:.1f}" if abs(v) >= 100 else f"{v:.3f}").replace("-", "−")


def figure_model(s, name: str) -> dict:
    """One stage as the explorer hands it over: labels, numbers, shown texts, fills and inks."""
    frame = s.stages()[name]
    values = frame.to_numpy()
    blocked = values == -np.inf
    if name == "weights" and s.masked is not None:
        blocked = s.masked.to_numpy() == -np.inf
    top = np.abs(values[np.isfinite(values)]).max() or 1.0
    fills, inks, texts = [], [], []
    for i, row in enumerate(values):
        fills.append([]), inks.append([]), texts.append([])
        for j, v in enumerate(row):
            if blocked[i, j]:
                fills[i].append(""), inks[i].append("#57606a"), texts[i].append("—" if name == "weights" else "−∞")
                continue
            t = v / top  # blue below zero, red above, white at zero
            r, g, b = ((255, round(255 * (1 - t)), round(255 * (1 - t))) if t >= 0
                       else (round(255 * (1 + t)), round(255 * (1 + t)), 255))
            fills[i].append(f"rgb({r},{g},{b})"), inks[i].append("#ffffff" if abs(t) > 0.6 else "#1f2328")
            texts[i].append(_fmt(v))
    return js({"name": name, "title": frame.attrs["formula"], "note": "每行加起来是 1" if name == "weights" else "",
            "source": "离线替身：" + s.X.attrs["source"],
            "rowLabels": [str(x) for x in frame.index], "colLabels": [str(c) for c in frame.columns],
            "values": values.tolist(), "texts": texts, "fills": fills, "inks": inks})


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    require_browser()
    site = tmp_path_factory.mktemp("export-page")
    (site / "index.html").write_text(PAGE, encoding="utf-8")
    shutil.copy(PACKAGE / "web" / "explorer_export.js", site)
    shutil.copy(PACKAGE / "data" / FONT, site)
    downloads = tmp_path_factory.mktemp("downloads")
    with browser.serve(site) as url, browser.chromium() as driver:
        driver.execute_cdp_cmd("Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)})
        driver.get(url + "index.html")
        assert driver.execute_async_script(FONTS_READY) == 1  # the web font is there, as on the site
        driver.downloads = downloads
        yield driver
        assert browser.console_errors(driver) == []


def test_one_frozen_api_however_often_loaded(page):
    assert page.execute_script("return window.first === AttnExport && Object.isFrozen(AttnExport)")
    assert page.execute_script("return Object.keys(AttnExport).sort()") == [
        "buttons", "csv", "file", "fileName", "layout", "png", "save", "svg"]
    assert page.execute_script("return ['weights', 'X', '权重'].map((n) => AttnExport.fileName(n, 'csv'))") == [
        "attention-weights.csv", "attention-X.csv", "attention-stage.csv"]


@pytest.mark.parametrize("causal", [False, True], ids=["unmasked", "causal"])
def test_csv_is_the_file_python_writes(page, tmp_path, causal):
    s = steps(causal)
    s.to_csv(tmp_path / "csv")
    for name in s.stages():
        ours = page.execute_script("return AttnExport.csv(M(arguments[0]))", figure_model(s, name))
        theirs = (tmp_path / "csv" / f"{name}.csv").read_text(encoding="utf-8")
        assert ours == theirs, name  # the same bytes: header, labels, digits, -inf, no BOM
        # round_trip: pandas' default parser may miss the last bit of a 17-digit float
        a = pd.read_csv(io.StringIO(ours), index_col=0, float_precision="round_trip")
        b = pd.read_csv(tmp_path / "csv" / f"{name}.csv", index_col=0, float_precision="round_trip")
        assert list(a.index) == list(s.stages()[name].index) and list(a.columns) == list(b.columns)
        assert np.array_equal(a.to_numpy(), s.stages()[name].to_numpy())  # to the last bit, -inf included
        assert np.array_equal(a.to_numpy(), b.to_numpy())
    if causal:
        assert "-inf" in (tmp_path / "csv" / "masked.csv").read_text(encoding="utf-8")


def test_csv_quotes_and_floats_as_pandas(page):
    """Labels with commas, quotes or newlines, and floats pandas writes in e-notation or as 3.0."""
    values = [[0.0, 3.0, 1e16, 1e-5, 1.5e-7, 123456.789, -2.5e-300, float("-inf")]] * 3
    labels = ["a,b", 'say "hi"', "两\n行"]
    frame = pd.DataFrame(values, index=pd.Index(labels, name="query"), columns=[f"k{j}" for j in range(8)])
    model = {"name": "scores", "title": "", "note": "", "source": "", "rowLabels": labels,
             "colLabels": list(frame.columns), "values": values, "texts": [["x"] * 8] * 3,
             "fills": [["#fff"] * 8] * 3, "inks": [["#000"] * 8] * 3}
    assert page.execute_script("return AttnExport.csv(M(arguments[0]))", js(model)) == frame.to_csv()


@pytest.mark.parametrize("name", ["X", "scores", "masked", "weights"])
def test_svg_is_a_legible_standalone_figure(page, name):
    s = steps(True)
    model = figure_model(s, name)
    text = page.execute_script("return AttnExport.svg(M(arguments[0]))", model)
    svg = ET.fromstring(text)  # XML: every text escaped
    ns = "{http://www.w3.org/2000/svg}"
    n, m = len(model["rowLabels"]), len(model["colLabels"])
    assert svg.tag == ns + "svg" and "Noto Sans CJK SC" in svg.get("font-family")
    assert svg.find(ns + "title").text == f"{model['title']} ({n}×{m})"
    cells = [r for r in svg.iter(ns + "rect") if r.get("width") != "100%"]
    assert len(cells) == n * m
    if name in ("masked", "weights"):
        assert sum(r.get("fill") == "#e6e9ed" for r in cells) == n * (n - 1) // 2  # the causal triangle, grey
    shown = [t.text for t in svg.iter(ns + "text")]
    assert f"{model['title']}  ({n}×{m})" in shown and model["source"] in shown
    for label in [*model["rowLabels"], *model["colLabels"], *(t for row in model["texts"] for t in row)]:
        assert label in shown
    assert "苹果" in shown and "喜欢" in shown  # Chinese labels as text, not outlines
    # Nothing overlaps: each cell is wider than what it shows, by the layout's own estimate.
    layout = page.execute_script("return AttnExport.layout(M(arguments[0]))", model)
    assert int(svg.get("width")) == layout["width"] and int(svg.get("height")) == layout["height"]
    xs = sorted({float(r.get("x")) for r in cells})
    assert all(b - a == float(cells[0].get("width")) for a, b in zip(xs, xs[1:]))


PNG = """
const [model, done] = [arguments[0], arguments[arguments.length - 1]];
AttnExport.png(M(model), {scale: 2}).then((blob) => {
  const reader = new FileReader();
  reader.onload = () => done({type: blob.type, data: reader.result.split(",")[1]});
  reader.readAsDataURL(blob);
}).catch((e) => done({error: String(e)}));
"""


@pytest.mark.parametrize("name", ["weights", "masked", "X"])
def test_png_is_drawn_at_twice_the_layout(page, name):
    model = figure_model(steps(True), name)
    result = page.execute_async_script(PNG, model)
    assert "error" not in result and result["type"] == "image/png"
    data = base64.b64decode(result["data"])
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    layout = page.execute_script("return AttnExport.layout(M(arguments[0]))", model)
    assert (width, height) == (2 * layout["width"], 2 * layout["height"])
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    (SCREENSHOTS / f"{name}.png").write_bytes(data)  # for a person to look at


def _downloaded(folder: Path, name: str) -> bytes:
    for _ in range(100):
        path = folder / name
        if path.is_file() and not list(folder.glob("*.crdownload")):
            return path.read_bytes()
        time.sleep(0.1)
    raise AssertionError(f"{name} was not downloaded; the folder holds {sorted(p.name for p in folder.iterdir())}")


def test_save_downloads_a_string_and_a_blob(page):
    model = figure_model(steps(True), "masked")
    page.execute_script("const m = M(arguments[0]);"
                        "AttnExport.save(AttnExport.csv(m), AttnExport.fileName(m.name, 'csv'), 'text/csv;charset=utf-8')",
                        model)
    expected = page.execute_script("return AttnExport.csv(M(arguments[0]))", model)
    assert _downloaded(page.downloads, "attention-masked.csv") == expected.encode("utf-8")
    page.execute_async_script("""
const [model, done] = [arguments[0], arguments[arguments.length - 1]];
AttnExport.png(M(model), {scale: 1}).then((b) => { AttnExport.save(b, AttnExport.fileName(model.name, 'png')); done(); });
""", model)
    assert _downloaded(page.downloads, "attention-masked.png")[:8] == b"\x89PNG\r\n\x1a\n"


def test_mismatched_models_are_refused_with_a_clear_message(page):
    model = figure_model(steps(False), "weights")
    short_row = {**model, "texts": [*model["texts"][:-1], model["texts"][-1][:-1]]}
    fewer_rows = {**model, "fills": model["fills"][:-1]}
    no_labels = {**model, "colLabels": None}
    errors = page.execute_script("""
return arguments[0].map((m) => ["csv", "svg", "layout"].map((f) => {
  try { AttnExport[f](M(m)); return "no error"; } catch (e) { return e instanceof Error ? e.message : "not an Error"; } }));
""", [short_row, fewer_rows, no_labels, "weights"])
    assert errors == [[message] * 3 for message in (
        "AttnExport: texts row 7 (苹果) has 7 cells but colLabels has 8",
        "AttnExport: fills has 7 rows but rowLabels has 8",
        "AttnExport: rowLabels and colLabels must be arrays",
        "AttnExport: expected a figure model object",
    )]
    png = page.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "AttnExport.png(M(arguments[0]), {}).then(() => done('drawn'), (e) => done(e.message));", fewer_rows)
    assert png == "AttnExport: fills has 7 rows but rowLabels has 8"
