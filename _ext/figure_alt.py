"""Sphinx extension: every figure on the site gets the alt text its plotting helper wrote from the numbers.

Run by jupyter-book through `sphinx: local_extensions:` in _config.yml. myst-nb
takes an image's alt only from cell metadata (text written by hand), and without
one the <img> says its own file name, a hash. The helpers in attn_steps describe
each figure as they draw it, and in a notebook a Figure's text/plain output is
that description: its alt on the first line, a longer description (a strip of
stages, one line per panel) on the lines after (attn_steps/alt_text.py).

myst-nb keeps every representation of an output in a mime bundle until the
builder picks one (its SelectMimeType post-transform); this transform runs
before that, on each page as it is read, and

- sets the image's alt to the first line of the bundle's text/plain;
- puts the longer description under the figure, in a <details> a reader opens;
- warns (the build runs with -W, so fails) where a notebook figure has only
  matplotlib's "<Figure size …>" (no helper described it), or where an image
  of a page has no alt at all: a figure cannot reach the site without one.
"""

from __future__ import annotations

import html

from docutils import nodes
from sphinx.transforms import SphinxTransform
from sphinx.util import logging

logger = logging.getLogger(__name__)

UNDESCRIBED = "<Figure size"  # matplotlib's repr, what attn_steps.alt_text leaves for a figure it cannot describe
LONG_SUMMARY = "图的文字描述"


def _is_bundle(node) -> bool:
    return isinstance(node, nodes.container) and node.get("nb_element") == "mime_bundle"


def long_description(lines: list[str]) -> nodes.raw:
    paragraphs = "".join(f"<p>{html.escape(line)}</p>" for line in lines)
    return nodes.raw("", f'<details class="figure-description"><summary>{LONG_SUMMARY}</summary>{paragraphs}</details>',
                     format="html")


class FigureAlt(SphinxTransform):
    default_priority = 800  # after the parser has built the page; before the post-transforms pick a mime type

    def apply(self, **kwargs) -> None:
        for bundle in list(self.document.findall(_is_bundle)):
            by_type = {child.get("mime_type"): child for child in bundle.children}
            shown = [c for mime, c in by_type.items() if mime and mime.startswith("image/")]
            images = [img for c in shown for img in c.findall(nodes.image)]
            if not images:
                continue
            plain = by_type.get("text/plain")
            text = plain.astext().strip() if plain is not None else ""
            if not text or text.startswith(UNDESCRIBED):
                logger.warning("a notebook figure has no alt text: draw it with an attn_steps plotting helper, "
                               "or describe it with attn_steps.alt_text.describe", location=bundle)
                continue
            short, *long = [line.strip() for line in text.splitlines() if line.strip()]
            for img in images:
                img["alt"] = short
            if long:
                for c in shown:
                    c.append(long_description(long))
        for img in self.document.findall(nodes.image):
            if not img.get("alt", "").strip():
                logger.warning(f"the image {img.get('uri')} has no alt text (give it :alt:)", location=img)


def setup(app):
    app.add_transform(FigureAlt)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
