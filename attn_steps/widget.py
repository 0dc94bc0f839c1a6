"""What every widget of the book shares: a page's HTML for it, and the same JavaScript live in Jupyter.

A widget is data (JSON) plus the book's scripts and styles (attn_steps/web/). `Widget.html`
is one self-contained block of HTML for a page (the static site, or any page that runs
scripts): a <div data-attn-KIND> holding the data, then the styles and scripts, inlined.
In a Jupyter front end (JupyterLab, Notebook 7, VS Code, Colab) the same widget is also
an anywidget (attn_steps/live.py): the same scripts start on the same <div>, and the files
a widget loads on first use (the poet's weights, the typed sentence's tables, the font)
come from the kernel instead of the site. Which one a front end shows is its choice: a
front end with a widget manager shows the live one, every other shows the HTML.

    KIND            data-attn-…   script data-role   started by (window.…)
    explorer        explorer      explorer-data      AttnExplorer.init(root)
    poet            poet          poet-data          AttnPoet.init(root)
    tiles           tiles         tiles-data         AttnTiles.init(root)
"""

from __future__ import annotations

import hashlib
import itertools
import json
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from .live import bundle

# The browser's files (JavaScript and CSS) live in a folder of their own, shipped as package data.
WEB = Path(__file__).resolve().parent / "web"
_ids = itertools.count(1)


@dataclass(frozen=True)
class Kind:
    """One kind of widget: its name (data-attn-NAME, data-role NAME-data), the classes of its <div>,
    the scripts and styles it inlines (in order), the global that starts it and the line shown
    where no script runs."""

    name: str
    classes: str
    scripts: tuple[str, ...]
    styles: tuple[str, ...]
    starter: str
    no_script: str = "这个交互图需要 JavaScript：在浏览器里打开本页，或在 Jupyter 里运行这个单元格。"

    def code(self) -> tuple[str, str]:
        """(the JavaScript, the CSS) exactly as a page inlines them."""
        js = "\n".join(shipped((WEB / name).read_text(encoding="utf-8")) for name in self.scripts)
        css = "\n".join(shipped((WEB / name).read_text(encoding="utf-8")) for name in self.styles)
        return js, css

    def body(self, data: dict) -> str:
        """The widget's <div> with its data, and no code: the page's HTML and the live widget both start from it."""
        payload = json.dumps(data, ensure_ascii=False, allow_nan=False, separators=(",", ":")).replace("</", "<\\/")
        uid = f"attn-{self.name}-{hashlib.sha1(payload.encode()).hexdigest()[:10]}-{next(_ids)}"
        return (f'<div class="{self.classes}" id="{uid}" data-attn-{self.name} lang="zh-CN">'
                f'<script type="application/json" data-role="{self.name}-data">{payload}</script>'
                f"<p>{self.no_script}</p></div>")

    def html(self, data: dict) -> str:
        """One self-contained block of HTML: the <div>, then the styles and the scripts, inlined."""
        js, css = self.code()
        return f"{self.body(data)}\n<style>{css}</style>\n<script>{js}</script>"


@dataclass(frozen=True)
class Widget:
    """HTML that runs in the reader's browser (`html`) and the data it was made from (`data`).

    Displays itself on the book's pages and in Jupyter; a subclass names its KIND and may serve
    files to its live form (`serve`)."""

    html: str
    data: dict
    KIND: ClassVar[Kind]

    @classmethod
    def of(cls, data: dict, **extra):
        """The widget for data, its HTML made by its KIND."""
        return cls(cls.KIND.html(data), data, **extra)

    def _repr_html_(self) -> str:
        return self.html

    def _repr_mimebundle_(self, include=None, exclude=None) -> dict:
        return bundle(self)

    def serve(self, name: str) -> bytes | None:
        """The bytes of a file the page would load from the site (a path under _static/), for the live widget;
        None: this widget has no such file."""
        return None


def shipped(source: str) -> str:
    """A script or stylesheet as pages carry it: whole-line comments, blank lines and indentation dropped.

    The files stay commented for readers of the code; every page with a widget carries
    them inlined, within the weight budget. Only whole lines go (a comment after code stays),
    so no string, template or regular expression can be cut in two.
    """
    out, in_block = [], False
    for line in source.splitlines():
        text = line.strip()
        if in_block:
            in_block = "*/" not in text
            continue
        if text.startswith("/*"):
            in_block = "*/" not in text
            continue
        if text and not text.startswith("//"):
            out.append(text)
    return "\n".join(out)
