"""No import circle outside the package either: benchmarks/, tools/ and _ext/ (tests/test_imports.py guards attn_steps).

If this broke, two scripts would import each other (benchmarks/bench.py and bench_poet.py once did),
so neither could be read, run or changed on its own.
"""

from __future__ import annotations

import ast
from pathlib import Path

from tests.test_imports import find_cycle

ROOT = Path(__file__).resolve().parent.parent
FOLDERS = ("benchmarks", "tools", "_ext")


def modules() -> dict[str, Path]:
    return {f"{folder}.{p.stem}": p for folder in FOLDERS for p in sorted((ROOT / folder).glob("*.py"))
            if p.stem != "__init__"}


def imports_of(name: str, path: Path, known: set[str]) -> set[str]:
    """The modules of FOLDERS that `name` imports anywhere in its source (lazy imports included)."""
    folder = name.split(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = f"{folder}.{node.module}" if node.level == 1 and node.module else (node.module or folder)
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return {m for m in found if m in known and m != name}


def test_no_import_circle_in_benchmarks_tools_or_extensions():
    found = modules()
    graph = {name: imports_of(name, path, set(found)) for name, path in found.items()}
    cycle = find_cycle(graph)
    assert cycle is None, "import circle: " + " → ".join(cycle)


def test_the_bench_driver_and_its_figure_modules_meet_only_in_figures():
    """bench.py calls bench_poet.py; both take Figure and the timers from benchmarks/figures.py."""
    found = modules()
    assert "benchmarks.bench" not in imports_of("benchmarks.bench_poet", found["benchmarks.bench_poet"], set(found))
