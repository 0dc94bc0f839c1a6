"""The package's data flows one way: text → embeddings → attention stages → heads, training, plots, the browser.

If this broke, a module would import (at its top or inside a function) one that
imports it back: the core math would depend on the code that writes browser
tables, and a change to one end could break the other.
"""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import attn_steps

PACKAGE = Path(attn_steps.__file__).resolve().parent
MODULES = sorted(p.stem for p in PACKAGE.glob("*.py") if p.stem not in ("__init__", "__main__"))


def imports_of(module: str) -> set[str]:
    """The package's modules that `module` imports anywhere in its source (lazy imports included)."""
    tree = ast.parse((PACKAGE / f"{module}.py").read_text(encoding="utf-8"))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level == 1:
            if node.module:
                found.add(node.module.split(".")[0])
            else:  # from . import checks, stages
                found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("attn_steps."):
            found.add(node.module.split(".")[1])
    return found & set(MODULES)


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import circle as a path (a → b → … → a), or None."""
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done

    def visit(node: str, path: list[str]) -> list[str] | None:
        state[node] = 1
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return path[path.index(nxt):] + [nxt] if nxt in path else path + [nxt]
            if nxt not in state:
                found = visit(nxt, path + [nxt])
                if found:
                    return found
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state:
            found = visit(start, [start])
            if found:
                return found
    return None


def test_no_import_circle():
    graph = {m: imports_of(m) for m in MODULES}
    cycle = find_cycle(graph)
    assert cycle is None, "import circle in attn_steps: " + " → ".join(cycle)


def test_the_core_math_imports_nothing_above_it():
    """attention (the stages) reads only its checks and the stage table, never embeddings, training or the browser."""
    assert imports_of("attention") <= {"checks", "stages"}


def test_every_module_imports_on_its_own():
    for module in MODULES:
        importlib.import_module(f"attn_steps.{module}")


def test_the_cycle_finder_finds_a_circle():
    """Guards the guard: a made-up circle is reported, a chain is not."""
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": set()}) is None
