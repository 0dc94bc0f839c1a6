"""The chapters as stored: listed in the table of contents, output-free, and
built the way the book's pages and hidden checks rely on.

nbval (run by `make test` over notebooks/) executes every cell; these tests
read the stored files without running them.
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))

COLAB_MARKER = '"google.colab" in sys.modules'
# A hidden check must be able to fail: a plain assert or numpy.testing.assert_*.
CHECK = re.compile(r"^\s*assert\b|\btesting\.assert_\w+\(|\bassert_\w+\(", re.M)


def toc_files() -> list[str]:
    """Every `file:` entry of _toc.yml (root included), in order."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    files = [toc["root"]]

    def walk(node):
        if isinstance(node, dict):
            if "file" in node:
                files.append(node["file"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk({k: v for k, v in toc.items() if k != "root"})
    return files


def read(path: Path) -> nbformat.NotebookNode:
    return nbformat.read(path, as_version=4)


def tags(cell) -> list[str]:
    return cell.get("metadata", {}).get("tags", [])


def headings(markdown: str, level: int) -> list[str]:
    """ATX headings of one level, ignoring lines inside ``` or ~~~ fences."""
    found, fence = [], None
    for line in markdown.splitlines():
        stripped = line.strip()
        marker = re.match(r"(`{3,}|~{3,})", stripped)
        if marker:
            if fence is None:
                fence = marker.group(1)[0]
            elif stripped.startswith(fence * 3):
                fence = None
            continue
        if fence is None and re.match(rf"#{{{level}}}\s+\S", stripped):
            found.append(stripped)
    return found


def embeds_text(path: Path) -> bool:
    return any(c.cell_type == "code" and "ats.embed(" in c.source for c in read(path).cells)


needs_notebooks = pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
EMBEDDING = [p for p in NOTEBOOKS if embeds_text(p)]


def test_there_are_chapters():
    """If this broke, the book would have no chapters at all: only the introduction would build."""
    assert NOTEBOOKS, "notebooks/ holds no .ipynb file"


def test_every_notebook_is_in_the_toc_and_every_toc_notebook_exists():
    """If this broke, a chapter would be missing from the site's sidebar (only_build_toc_files
    drops it silently), or the build would fail on a table-of-contents entry with no file."""
    listed = {f.removesuffix(".ipynb") for f in toc_files() if f.startswith("notebooks/")}
    stored = {f"notebooks/{p.stem}" for p in NOTEBOOKS}
    assert stored - listed == set(), "notebooks not listed in _toc.yml"
    assert listed - stored == set(), "_toc.yml lists notebooks that do not exist"


def test_toc_files_all_exist():
    """If this broke, `make book` would stop on a table-of-contents entry whose page does not exist."""
    for entry in toc_files():
        candidates = [ROOT / entry, *(ROOT / f"{entry}{ext}" for ext in (".md", ".ipynb"))]
        assert any(c.is_file() for c in candidates), f"_toc.yml entry {entry!r} has no file"


@needs_notebooks
def test_valid_notebook_format(path):
    """If this broke, Jupyter, nbval or the book build could refuse to open the chapter."""
    nbformat.validate(read(path))


@needs_notebooks
def test_stored_without_outputs(path):
    """If this broke, the repository would carry numbers from one machine's embedding source,
    and a reader opening the notebook would see stale results before running it."""
    for i, cell in enumerate(read(path).cells):
        if cell.cell_type != "code":
            continue
        assert cell.outputs == [], f"cell {i} has stored outputs"
        assert cell.execution_count is None, f"cell {i} has an execution count"


@needs_notebooks
def test_first_cell_is_the_only_title(path):
    """If this broke, the chapter would have a wrong or missing title in the sidebar and the
    browser tab, or extra entries in the page's contents."""
    cells = read(path).cells
    assert cells and cells[0].cell_type == "markdown", "first cell must be markdown"
    assert len(headings(cells[0].source, 1)) == 1, "first cell must have exactly one H1"
    later = [h for c in cells[1:] if c.cell_type == "markdown" for h in headings(c.source, 1)]
    assert later == [], f"H1 headings after the first cell: {later}"


@pytest.mark.parametrize("path", EMBEDDING, ids=[p.stem for p in EMBEDDING])
def test_embedding_chapters_show_their_source(path):
    """If this broke, a page would show numbers from the untrained stand-in without saying so,
    and a reader would take them for the trained model's."""
    cells = read(path).cells
    notes = [c for c in cells if c.cell_type == "code" and "ats.source_note()" in c.source]
    assert any("remove-input" in tags(c) for c in notes), \
        "a cell tagged remove-input must display ats.source_note()"


@needs_notebooks
def test_hidden_cells_are_checks_or_the_colab_install(path):
    """If this broke, code that readers need would be hidden from the page, or a hidden
    "check" could never fail and the numbers it guards could drift unnoticed."""
    for i, cell in enumerate(read(path).cells):
        if cell.cell_type != "code" or "remove-cell" not in tags(cell):
            continue
        is_colab = COLAB_MARKER in cell.source and "%pip install" in cell.source
        assert is_colab or CHECK.search(cell.source), f"hidden cell {i} has no assert"


@needs_notebooks
def test_colab_cell_installs_from_the_book_repository(path):
    """If this broke, the chapter opened from the Colab button would fail at `import attn_steps`."""
    config = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
    repo = config["repository"]["url"].rstrip("/")
    colab = [c for c in read(path).cells if c.cell_type == "code" and COLAB_MARKER in c.source]
    assert len(colab) == 1, "expected exactly one Colab install cell"
    assert "remove-cell" in tags(colab[0])
    assert f"git+{repo}" in colab[0].source


@needs_notebooks
def test_kernel_is_python3(path):
    """If this broke, the build, nbval or Binder would look for a kernel that does not exist
    and the chapter would not run."""
    spec = read(path).metadata.get("kernelspec", {})
    assert spec.get("name") == "python3"
    assert spec.get("language") == "python"


# What reaches the spaCy model: a chapter that calls none of these has the same numbers with every source.
EMBEDDING_CALLS = ("ats.embed(", "ats.segment(", "source_note", "apple_sentences", "train_head", "explore(\"",
                   "embedding_source")


def test_chapters_the_model_double_skips_never_touch_the_embeddings():
    """If this broke, a chapter left out of `make test-model` would show numbers the trained spaCy model changes,
    unchecked with that model."""
    from tests.model_double.check_notebooks import INDEPENDENT_OF_SPACY

    for stem in INDEPENDENT_OF_SPACY:
        code = "\n".join(c.source for c in read(ROOT / "notebooks" / f"{stem}.ipynb").cells if c.cell_type == "code")
        assert not [call for call in EMBEDDING_CALLS if call in code], stem

