"""Sphinx extension: the tables a sentence typed on the static site needs, written into the built site.

Run by jupyter-book through `sphinx: local_extensions:` in _config.yml. When the
HTML build has finished it writes, into _static/attn-tables/ of the site, what
tools/make_segmenter_dict.py builds from what is installed (no network):

- segmenter-dict.json  the book's dictionary, cut from jieba's dict.txt (MIT licence, carried in the file);
- wordvecs-d10.json    per-word vectors at the walkthrough's size, from whichever source builds the site;
- head-ch4.json        chapter 4's trained head, two numbers per word, and how often its verdicts
                       were right on the held-out sentences per bin of p (training.calibration).

Pages never load them until a reader types into an explorer (explorer_typing.js).
Beside them, in _static/attn-poet/, the poet's weights for the browser
(attn_steps/poet_web.py: poet.json and poet.bin), loaded only when a reader
first asks the poet to write; skipped (an info line) while no trained weights ship.
They are built from the package, the corpus and the embedding source; the key
of those inputs is kept beside them, so an unchanged rebuild skips them.
They do not depend on the pages, so they are made in a process of their own
from the start of the build (`builder-inited`), on the core the notebooks'
kernel leaves free, and collected when the build has finished: a cold build
waits for them only if they outlast every notebook (make bench: cold build /
bare execution). Chapter 4's head comes from ATTN_HEAD_CACHE when `make book`
or `make test` set it and chapter 4 trained it first; else the process trains it.
"""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

from sphinx.util import logging

logger = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parent.parent
TABLES = "_static/attn-tables"
KEY_FILE = ".inputs-key"


def setup(app):
    app.connect("builder-inited", _start)
    app.connect("build-finished", _collect, priority=950)  # after light_site (900), which runs meanwhile
    return {"parallel_read_safe": True, "parallel_write_safe": True}


def _start(app):
    """Begin both sets of files in a fresh interpreter (spawn: no fork of Sphinx and its kernel clients)."""
    if app.builder.format != "html":
        return
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    pool = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"))
    out = Path(app.outdir)
    app._attn_site_tables = (pool, [pool.submit(write_tables, out), pool.submit(write_poet, out)])


def _collect(app, exception):
    """Wait for the files begun at the start; log what was written; a failure there fails the build."""
    started = getattr(app, "_attn_site_tables", None)
    if started is None:
        return
    pool, futures = started
    try:
        if exception is None:
            for future in futures:
                _log(future.result())
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def inputs_key() -> str:
    """A hash of everything the tables are made from: the package and its data, the tool, and the embedding source."""
    import jieba

    from attn_steps.embeddings import REAL_SOURCE, STAND_IN_SOURCE, use_trained_model

    h = hashlib.sha256()
    paths = sorted([*(ROOT / "attn_steps").glob("*.py"), *(p for p in (ROOT / "attn_steps" / "data").rglob("*") if p.is_file()),
                    ROOT / "tools" / "make_segmenter_dict.py"])
    for path in paths:
        h.update(path.relative_to(ROOT).as_posix().encode() + path.read_bytes())
    h.update((REAL_SOURCE if use_trained_model(None) else STAND_IN_SOURCE).encode())
    h.update(jieba.__version__.encode())
    return h.hexdigest()


def write_tables(site: Path) -> str:
    """The typed-sentence tables in site/TABLES, unless the key of their inputs is unchanged; a line for the log."""
    out = site / TABLES
    key = inputs_key()
    if (out / KEY_FILE).is_file() and (out / KEY_FILE).read_text() == key:
        return ""
    sys.path.insert(0, str(ROOT))
    try:
        from tools import make_segmenter_dict
    finally:
        sys.path.remove(str(ROOT))
    sizes = make_segmenter_dict.build(out)
    (out / KEY_FILE).write_text(key)
    return "typed-sentence tables: " + ", ".join(f"{name} {packed / 1000:.0f} kB gzipped"
                                                for name, (_, packed) in sizes.items())


POET = "_static/attn-poet"


def write_poet(site: Path) -> str:
    """The poet's site files, keyed by the weights and the exporter, so an unchanged rebuild skips them."""
    from attn_steps import poet_web

    weights = poet_web.weights_file()
    if not weights.is_file():
        # Not a warning (-W fails the build): the poet's weights ship with the poem chapter (issue 22).
        return f"no poet weights at {weights}: no _static/attn-poet files; a poet widget would find nothing to load"
    out = site / POET
    key = hashlib.sha256(weights.read_bytes() + Path(poet_web.__file__).read_bytes()
                         + (weights.parent / "model.json").read_bytes()).hexdigest()
    if (out / KEY_FILE).is_file() and (out / KEY_FILE).read_text() == key:
        return ""
    sizes = poet_web.export_site(out)
    (out / KEY_FILE).write_text(key)
    return "poet weights for the browser: " + ", ".join(f"{name} {n / 1000:.0f} kB" for name, n in sizes.items())


def _write_tables(app, exception):
    """write_tables in this process, at the end of a build (the build itself starts it in a process of its own)."""
    if exception is None and app.builder.format == "html":
        _log(write_tables(Path(app.outdir)))


def _write_poet(app, exception):
    """write_poet in this process, at the end of a build."""
    if exception is None and app.builder.format == "html":
        _log(write_poet(Path(app.outdir)))


def _log(message: str) -> None:
    if message:
        logger.info(message)
