"""Every chapter, run as the published site runs it: with zh_core_web_sm installed.

Run by `make test-model` inside .venv-model, where the test double built by
make_double.py is installed as the package zh_core_web_sm 3.8.0 (and not in
.venv, whose tests use the offline stand-in). Not collected by the main
`pytest` run: its name does not start with test_.
"""

from __future__ import annotations

import importlib.metadata
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

import attn_steps as ats
from attn_steps.embeddings import REAL_SOURCE

ROOT = Path(__file__).resolve().parents[2]
# Chapters whose numbers cannot depend on the spaCy model (the poem chapter runs its own model and
# embeds nothing): running them again here would check nothing new. tests/test_notebooks.py keeps
# this honest: such a chapter may not call into the embeddings.
INDEPENDENT_OF_SPACY = {"09_poet"}
NOTEBOOKS = [nb for nb in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")) if nb.stem not in INDEPENDENT_OF_SPACY]
SPACY_CHAPTERS = [nb for nb in NOTEBOOKS if "ats.source_note()" in nb.read_text(encoding="utf-8")]
TEXT2 = "相比苹果我更加喜欢国产的华为"
STAND_IN_TEXT2 = ["相比", "苹果", "我", "更加", "喜欢", "国产", "的", "华为"]


def test_the_book_takes_the_double_for_the_trained_model():
    """If this fails, the chapters below ran on the stand-in and checked nothing new."""
    import spacy

    assert importlib.metadata.version("zh_core_web_sm") == "3.8.0"
    assert ats.embedding_source() == REAL_SOURCE
    nlp = spacy.load("zh_core_web_sm")
    assert (nlp.meta["lang"], nlp.meta["name"], nlp.meta["version"]) == ("zh", "core_web_sm", "3.8.0")
    assert nlp.pipe_names == ["tok2vec", "tagger", "ner"]
    doc = nlp(TEXT2)
    assert doc.tensor.shape == (len(doc), 96)
    for name in ("tagger", "ner"):  # listening to the shared tok2vec, as in the real pipeline
        assert nlp.get_pipe(name).model.get_ref("tok2vec").name.startswith("tok2vec-listener")


def test_the_double_segments_and_embeds_unlike_the_stand_in():
    assert ats.segment(TEXT2) != STAND_IN_TEXT2
    assert "更加喜欢" in ats.segment(TEXT2) and "国产的" in ats.segment(TEXT2)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_chapter_runs_to_the_end_with_the_model(path):
    nb = nbformat.read(path, as_version=4)
    NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}).execute()
    text = "\n".join(
        str(out.get("text", "")) + str(out.get("data", {}).get("text/plain", "")) + str(out.get("data", {}).get("text/html", ""))
        for cell in nb.cells if cell.cell_type == "code" for out in cell.get("outputs", [])
    )
    assert "Traceback" not in text
    if path.stem == "04_learning":  # its claims are checked for this source too, not only for the stand-in
        assert "STAND_IN_SOURCE" not in path.read_text(encoding="utf-8")
    if path in SPACY_CHAPTERS:
        assert "本页的数字来自训练好的 spaCy 模型 zh_core_web_sm 3.8.0" in text, f"{path.name} does not say which model it used"
