"""A DataFrame shown in a notebook (and so on the book's pages) with text in every header cell.

pandas leaves the corner above the row labels empty, and when the index has a name it
adds a second header row, empty but for that name: a screen reader announces an
unnamed column header for each, and axe-core flags every one (empty-table-header).
Here the corner is one cell that names the rows and the columns, as a reader would say
it ("查询 / 键" for a frame whose index is named 查询 and its columns 键); a frame
with no names gets a corner that only a screen reader hears (行, "the rows").
Registered by `import attn_steps` when IPython runs it; nothing changes outside a notebook.
"""

from __future__ import annotations

import html
import re

import pandas as pd

HIDDEN = '<span class="visually-hidden">行</span>'  # Bootstrap's class, which the book's theme ships


def corner(frame: pd.DataFrame) -> str:
    """The corner's text: the index's names and the columns' name, "/" between them; "" when there are none."""
    names = [str(n) for n in (*frame.index.names, frame.columns.name) if n is not None and str(n) != ""]
    return " / ".join(names)


def frame_html(frame: pd.DataFrame) -> str | None:
    """frame's notebook HTML as pandas draws it (the same rows and columns shown), with one header row whose
    corner names the rows; None where pandas shows no HTML (as DataFrame._repr_html_)."""
    from pandas.io.formats import format as fmt

    if not pd.get_option("display.notebook_repr_html") or frame._info_repr():
        return frame._repr_html_()
    formatter = fmt.DataFrameFormatter(
        frame, index_names=False, bold_rows=True, escape=True, na_rep="NaN", header=True, index=True,
        max_rows=pd.get_option("display.max_rows"), min_rows=pd.get_option("display.min_rows"),
        max_cols=pd.get_option("display.max_columns"), show_dimensions=pd.get_option("display.show_dimensions"))
    out = fmt.DataFrameRenderer(formatter).to_html(notebook=True)
    end = out.find("</thead>")
    if end < 0:
        return out
    head, rest, label = out[:end], out[end:], corner(frame)
    if label and frame.index.nlevels == 1 and frame.columns.nlevels == 1:
        head = re.sub(r"<th>[^<]*</th>", lambda _: f"<th>{html.escape(label)}</th>", head, count=1)
    return head.replace("<th></th>", f"<th>{HIDDEN}</th>") + rest


def styler_html(styler) -> str:
    """A pandas Styler's HTML with its blank corner cells (&nbsp;) named for a screen reader, as frame_html's."""
    return re.sub(r'(<th class="blank[^"]*"\s*>)&nbsp;(</th>)', lambda m: m.group(1) + HIDDEN + m.group(2), styler.to_html())


def register() -> None:
    """Show DataFrames with frame_html (and Stylers with styler_html) in the running IPython, if any."""
    try:
        from IPython import get_ipython
    except ImportError:
        return
    shell = get_ipython()
    if shell is not None:
        from pandas.io.formats.style import Styler  # needs jinja2, which Jupyter brings

        html_formatter = shell.display_formatter.formatters["text/html"]
        html_formatter.for_type(pd.DataFrame, frame_html)
        html_formatter.for_type(Styler, styler_html)
