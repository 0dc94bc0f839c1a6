"""The book's widgets live in a Jupyter front end, fed by the kernel instead of the site.

On the site a widget loads its files on first use from _static/ (the poet's weights, the
typed sentence's tables, the rest of the font). In JupyterLab, Notebook 7, VS Code or
Colab there is no site: `bundle(widget)` adds to the widget's HTML an anywidget (one ES
module, attn_steps/web/live.js) that starts the same scripts on the same <div>, and asks
the kernel for those files over the widget's comm, by the same names. The kernel answers
with `widget.serve(name)` (each widget knows its files) or, for FONT, the book's own font,
so the Chinese is drawn with no system font. A front end with a widget manager shows the
live widget; every other (the site's build, nbconvert, GitHub) shows the HTML, which runs
as before. Nothing is fetched from outside and no file is written.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path

from .fonts import shipped_font_path

ESM = "live.js"  # the ES module a front end runs, beside the widgets' scripts in attn_steps/web/
FONT = "attn-steps-cjk.otf"  # the name live.js asks for: the shipped GB2312 font, whole (it draws every widget's Chinese)
FONT_FAMILY = "Attn Steps CJK"  # the family the site's cjk.css declares; live.js adds the same family from FONT


def bundle(widget) -> dict:
    """The mime bundle of a widget (widget.Widget): its HTML for every front end, and its live form where a
    widget manager runs."""
    out = {}
    Live = live_class()
    if Live is not None:
        live = Live.of(widget)._repr_mimebundle_()
        data = live[0] if isinstance(live, tuple) else live  # anywidget gives (data, metadata)
        out.update({k: v for k, v in (data or {}).items() if k.startswith("application/")})
    return {"text/plain": repr(widget), "text/html": widget.html, **out}


@lru_cache(maxsize=1)
def live_class():
    """The anywidget class (made on first display: importing ipywidgets costs a tenth of a second), or None
    without anywidget (it is pinned in requirements.txt; without it the HTML alone runs, with no kernel's files)."""
    try:
        import anywidget
        import traitlets
    except ImportError:
        return None

    class Live(anywidget.AnyWidget):
        """One widget of the book, live: its <div> (`body`), its scripts and styles, the global that starts it."""

        _esm = Path(__file__).resolve().parent / "web" / ESM
        kind = traitlets.Unicode().tag(sync=True)
        body = traitlets.Unicode().tag(sync=True)
        code = traitlets.Unicode().tag(sync=True)
        css = traitlets.Unicode().tag(sync=True)
        code_id = traitlets.Unicode().tag(sync=True)  # the page runs each version of the scripts once
        starter = traitlets.Unicode().tag(sync=True)
        font_family = traitlets.Unicode(FONT_FAMILY).tag(sync=True)

        @classmethod
        def of(cls, widget) -> "Live":
            js, css = widget.KIND.code()
            live = cls(kind=widget.KIND.name, body=widget.KIND.body(widget.data), code=js, css=css,
                       code_id=hashlib.sha1((js + css).encode()).hexdigest()[:12], starter=widget.KIND.starter)
            live._source = widget
            live.on_msg(live._answer)
            return live

        def _answer(self, _widget, content, buffers) -> None:
            """A file the page asks for ({"file": name, "ask": n}): its bytes, or a message in Chinese."""
            if not isinstance(content, dict) or "file" not in content:
                return
            name, ask = str(content["file"]), content.get("ask")
            try:
                data = read_font() if name == FONT else self._source.serve(name)
            except Exception as e:  # the page shows the message; the kernel carries on
                self.send({"ask": ask, "error": f"内核读取 {name} 时出错：{type(e).__name__}: {e}"})
                return
            if data is None:
                self.send({"ask": ask, "error": f"内核里没有 {name} 这个文件"})
            else:
                self.send({"ask": ask, "bytes": len(data)}, [data])

    return Live


def read_font() -> bytes:
    """The book's font (Noto Sans CJK SC cut to GB2312, OFL), as the live widget gives it to the page."""
    return shipped_font_path().read_bytes()
