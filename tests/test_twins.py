"""The table of Python ↔ JavaScript twins (attn_steps/web/README.md) against both sides."""

from __future__ import annotations

import ast
import importlib
import re
from pathlib import Path

import pytest

WEB = Path(__file__).resolve().parent.parent / "attn_steps" / "web"
PACKAGE = WEB.parent
TWINNED = ("attention", "tiles", "segmenter", "verse", "gpt", "poet_sampling", "poet_weights")


def tables(text: str) -> tuple[list[tuple[str, str, str]], dict[str, str]]:
    """(python, js file, js name) rows of "Twins", and python → why of "Without a twin"."""
    twins, alone, section = [], {}, None
    for line in text.splitlines():
        if line.startswith("## "):
            section = "twins" if line.startswith("## Twins") else "alone" if line.startswith("## Without") else None
        m = re.match(r"\| `([\w.]+)` \| (.+) \|$", line)
        if not m or section is None:
            continue
        if section == "twins":
            js = re.fullmatch(r"`([\w.]+\.js): (\w+)`", m.group(2))
            assert js, line
            twins.append((m.group(1), js.group(1), js.group(2)))
        else:
            alone[m.group(1)] = m.group(2)
    return twins, alone


def problems(twins, alone) -> list[str]:
    """What the table and the two sides disagree on, in words."""
    out = []
    for python, script, name in twins:
        module, *attrs = python.split(".")
        obj = importlib.import_module(f"attn_steps.{module}")
        for a in attrs:
            obj = getattr(obj, a, None)
        if not callable(obj):
            out.append(f"{python} is named as a twin but attn_steps has no such function")
        path = WEB / script
        if not path.is_file() or not re.search(rf"(function {name}\(|const {name} = |class {name}\b)",
                                               path.read_text(encoding="utf-8")):
            out.append(f"{script} has no {name}, the twin of {python}")
    listed = {p for p, _, _ in twins} | set(alone)
    for module in TWINNED:
        tree = ast.parse((PACKAGE / f"{module}.py").read_text(encoding="utf-8"))
        for node in tree.body:
            if isinstance(node, (ast.FunctionDef, ast.ClassDef)) and not node.name.startswith("_"):
                if f"{module}.{node.name}" not in listed:
                    out.append(f"{module}.{node.name} has no twin and no line under 'Without a twin' saying why")
    return out


def test_every_twin_exists_on_both_sides():
    """If this broke, the README would promise a JavaScript twin that is gone, or a new function of a twinned module
    would have silently no twin: the browser and Python would drift apart unnoticed."""
    twins, alone = tables((WEB / "README.md").read_text(encoding="utf-8"))
    assert len(twins) > 40 and len(alone) > 20
    assert problems(twins, alone) == []


@pytest.mark.parametrize("row, words", [
    (("attention.project", "explorer_math.js", "projectAll"), "explorer_math.js has no projectAll"),
    (("attention.projected", "explorer_math.js", "project"), "attn_steps has no such function"),
])
def test_a_made_up_twin_fails(row, words):
    """The check itself can fail: a twin that does not exist on one side is reported."""
    twins, alone = tables((WEB / "README.md").read_text(encoding="utf-8"))
    assert any(words in p for p in problems(twins + [row], alone))


def test_a_function_without_a_line_is_reported():
    twins, alone = tables((WEB / "README.md").read_text(encoding="utf-8"))
    del alone["gpt.model"]
    assert problems(twins, alone) == ["gpt.model has no twin and no line under 'Without a twin' saying why"]
