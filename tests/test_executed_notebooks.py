"""Every chapter as `make book` executed it: the check nbval's second run used to make, read from the build's own run.

The build executes every notebook (jupyter-cache) under _config.yml's `execute:` rules: a
cell that raises, or anything on stderr, fails it (tests/test_config.py keeps those rules). It
writes each executed notebook, hidden cells included, to _build/jupyter_execute/. Running
every chapter again under nbval (`pytest --nbval-lax`) found nothing these checks miss: the
same kernel in the same environment, and the build's own rules are stricter (stderr fails it,
nbval-lax lets it pass). What a rerun would add is freshness, and that is checked here instead:
the executed copy must hold the stored chapter's code, and the build's stamp the current
package (else the build's cache could be showing an older run).
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
EXECUTED = ROOT / "_build" / "jupyter_execute"
STAMP = ROOT / "_build" / ".attn_steps-stamp"

pytestmark = pytest.mark.notebook


def code_cells(path: Path) -> list:
    return [c for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code"]


def test_the_build_ran_with_the_current_package():
    """If this broke, the executed chapters below could come from a cache made before attn_steps,
    _static or the pins last changed: their cells ran, but against other code."""
    if not STAMP.is_file():
        pytest.fail("no _build/.attn_steps-stamp: run `make book` first (make test does)")
    current = subprocess.run(["make", "--no-print-directory", "-s", "stamp-hash"], cwd=ROOT, capture_output=True,
                             text=True, check=True).stdout.strip()
    assert STAMP.read_text().strip() == current, "attn_steps, _static or the pins changed since the build: run `make book`"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_the_build_ran_every_cell_of_the_stored_chapter_without_error(path):
    """If this broke, a chapter's cell (a hidden check among them) did not run, raised, or wrote to stderr
    in the build, or the build ran an older version of the chapter."""
    executed = EXECUTED / path.relative_to(ROOT)
    if not executed.is_file():
        pytest.fail(f"the build wrote no {executed.relative_to(ROOT)}: run `make book` first (make test does)")
    ran, stored = code_cells(executed), code_cells(path)
    assert [c.source for c in ran] == [c.source for c in stored], "the build ran another version of it: run `make book`"
    assert [c.execution_count for c in ran] == list(range(1, len(ran) + 1)), "not every cell ran, once, in order"
    hidden = [c for c in ran if "remove-cell" in c.get("metadata", {}).get("tags", [])]
    assert hidden, "no hidden check ran"  # tests/test_notebooks.py: every hidden cell but the Colab one asserts
    for i, cell in enumerate(ran):
        for out in cell.outputs:
            assert out.output_type != "error", f"code cell {i} raised {out.ename}: {out.evalue}"
            assert not (out.output_type == "stream" and out.name == "stderr"), f"code cell {i} wrote to stderr"
