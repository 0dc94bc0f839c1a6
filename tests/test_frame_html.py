"""The book's tables as a notebook shows them: every header cell has text (attn_steps/frame_html.py).

If these fail, a screen reader would announce an unnamed header at the corner of every
DataFrame in the book (axe-core's empty-table-header), or the tables would show other
rows and numbers than pandas does.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from attn_steps.frame_html import HIDDEN, corner, frame_html, styler_html


def header(html: str) -> str:
    return html[html.index("<thead>"):html.index("</thead>")]


def test_a_frame_without_names_gets_a_corner_a_screen_reader_hears():
    frame = pd.DataFrame(np.eye(2), index=["我", "喜欢"], columns=["我", "喜欢"])
    html = frame_html(frame)
    assert "<th></th>" not in html and header(html).count(HIDDEN) == 1
    assert html[html.index("<tbody>"):] == frame._repr_html_()[frame._repr_html_().index("<tbody>"):]  # the same rows


def test_named_rows_and_columns_name_the_corner_in_one_header_row():
    frame = pd.DataFrame(np.eye(2), index=pd.Index(["我", "喜欢"], name="查询"), columns=pd.Index(["我", "喜欢"], name="键"))
    assert corner(frame) == "查询 / 键"
    head = header(frame_html(frame))
    assert head.count("<tr") == 1 and "<th>查询 / 键</th>" in head and "<th></th>" not in head


def test_a_long_frame_is_cut_as_pandas_cuts_it():
    frame = pd.DataFrame(np.arange(400.0).reshape(200, 2))
    assert frame_html(frame).count("<tr>") == frame._repr_html_().count("<tr>")  # the same rows shown, "…" included


def test_a_stylers_blank_corner_gets_text():
    html = styler_html(pd.DataFrame({"准确率": [0.5]}, index=["头"]).style.format("{:.1%}"))
    assert not re.search(r'<th class="blank[^"]*"\s*>&nbsp;</th>', html) and HIDDEN in html
