"""_ext/figure_alt.py on a page as myst-nb reads it: each notebook figure's alt comes from its text/plain.

If this broke, the site's figures would be read aloud as file hashes again, or a figure without a
description would reach the site without failing the build (issue 31).
"""

from __future__ import annotations

import importlib.util
import logging
from pathlib import Path

from docutils import nodes
from docutils.frontend import get_default_settings
from docutils.parsers.rst import Parser
from docutils.utils import new_document

spec = importlib.util.spec_from_file_location("figure_alt", Path(__file__).parents[1] / "_ext" / "figure_alt.py")
figure_alt = importlib.util.module_from_spec(spec)
spec.loader.exec_module(figure_alt)


def page(plain: str | None, alt: str | None = None):
    """A page with one notebook output as myst-nb leaves it before a builder picks a type: a PNG and its text."""
    document = new_document("chapter.ipynb", get_default_settings(Parser))
    bundle = nodes.container(nb_element="mime_bundle")
    image = nodes.image(uri="_build/jupyter_execute/5748fcd3.png", **({"alt": alt} if alt else {}))
    bundle += nodes.container("", image, mime_type="image/png")
    if plain is not None:
        bundle += nodes.container("", nodes.literal_block(plain, plain), mime_type="text/plain")
    document += bundle
    return document, image


def test_the_first_line_is_the_alt_and_the_rest_a_description_under_the_figure():
    document, image = page("热力图「Q·Kᵀ」，8 行 × 8 列。\n（1）热力图「X」\n（2）热力图「Q」")
    figure_alt.FigureAlt(document).apply()
    assert image["alt"] == "热力图「Q·Kᵀ」，8 行 × 8 列。"
    raw = image.parent.children[-1]
    assert isinstance(raw, nodes.raw) and raw["format"] == "html"
    assert "<summary>图的文字描述</summary><p>（1）热力图「X」</p><p>（2）热力图「Q」</p>" in raw.astext()


def test_a_figure_no_helper_described_fails_the_build(caplog):
    for plain in ("<Figure size 640x480 with 1 Axes>", None):
        document, image = page(plain)
        with caplog.at_level(logging.WARNING):
            figure_alt.FigureAlt(document).apply()
        assert "no alt text" in caplog.text and not image.get("alt")
        caplog.clear()


def test_an_image_of_a_page_without_alt_is_reported(caplog):
    document = new_document("book/intro.md", get_default_settings(Parser))
    document += nodes.image(uri="images/pipeline.png")
    with caplog.at_level(logging.WARNING):
        figure_alt.FigureAlt(document).apply()
    assert "images/pipeline.png has no alt text" in caplog.text
