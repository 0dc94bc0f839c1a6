"""Chapter 4's trained heads kept between the parts of one `make test` run (run_cache.py says how).

`make test` sets ATTN_HEAD_CACHE to a folder it empties first; a head trained
from exactly the same inputs is then trained once and read back by the other
parts. Unset (a reader's notebook), every head is trained.
"""

from __future__ import annotations

from pathlib import Path

from .run_cache import CACHE, folder, key, store  # noqa: F401 (CACHE: for tests; store: training.py keeps a head with it)

MODULES = ("training.py", "attention.py", "embeddings.py", "head_cache.py", "run_cache.py")


def cache_file(e: tuple, settings: dict, source: str) -> Path | None:
    """Where the head trained from exactly these inputs is kept; None when ATTN_HEAD_CACHE is unset (a reader).

    The key hashes what decides every bit of the result: the encoded batches
    (so the words, vectors and labels; another embedding or tokenisation is another key),
    the settings, the source, the code that trains and numpy's version (run_cache.key).
    """
    where = folder()
    if where is None:
        return None
    arrays = [x for enc in e for x in (enc.X, enc.allowed, enc.target, enc.y)]
    return where / f"head-{key([settings, source, *arrays], MODULES)}.pickle"
