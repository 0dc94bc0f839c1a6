"""Chapter 4's trained heads kept between the parts of one `make test` run (the build, nbval, the tests).

`make test` sets ATTN_HEAD_CACHE to a folder it empties first; a head trained
from exactly the same inputs is then trained once and read back by the other
parts. Unset (a reader's notebook), every head is trained.
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import tempfile
from pathlib import Path

import numpy as np

CACHE = "ATTN_HEAD_CACHE"  # a folder: `make test` sets it, so a head its parts train alike is trained once


def cache_file(e: tuple, settings: dict, source: str) -> Path | None:
    """Where the head trained from exactly these inputs is kept; None when ATTN_HEAD_CACHE is unset (a reader).

    The key hashes what decides every bit of the result: the encoded batches
    (so the words, vectors and labels; another embedding or tokenisation is another key),
    the settings, the source, the code that trains and numpy's version.
    """
    folder = os.environ.get(CACHE)
    if not folder:
        return None
    h = hashlib.sha256(json.dumps([settings, source, np.__version__], sort_keys=True).encode())
    for module in ("training.py", "attention.py", "embeddings.py", "head_cache.py"):
        h.update(Path(__file__).with_name(module).read_bytes())
    for a in (x for enc in e for x in (enc.X, enc.allowed, enc.target, enc.y)):
        h.update(f"{a.dtype}{a.shape}".encode() + np.ascontiguousarray(a).tobytes())
    return Path(folder) / f"head-{h.hexdigest()}.pickle"


def store(path: Path, head) -> None:
    """Keep a trained head at path, written whole or not at all."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".head-")  # then renamed: nobody reads half a head
    with os.fdopen(fd, "wb") as f:
        pickle.dump(head, f, protocol=pickle.HIGHEST_PROTOCOL)
    os.replace(tmp, path)
