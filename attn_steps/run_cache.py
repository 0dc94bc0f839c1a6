"""Results that the parts of one `make test` (or `make book`) run compute alike, computed once.

`make test` and `make book` set ATTN_HEAD_CACHE to a folder (make test empties it first). A
result of exactly the same inputs and code is then computed by whichever part gets there first
(the build, the chapters again with the model double, the chapters in JupyterLab, the tests) and
read back by the others: chapter 4's trained head (head_cache.py) and chapter 9's knock-outs
(knockouts.py), minutes each. Unset (a reader's notebook), everything is computed.

The key hashes what decides every bit of the result: the inputs (an array by its dtype, shape
and bytes; anything else by its JSON), the source of the modules that compute it, and numpy's
version. A result is written whole or not at all, so a part never reads half of one.
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import tempfile
from pathlib import Path

import numpy as np

CACHE = "ATTN_HEAD_CACHE"  # a folder: make test and make book set it; the parts of a run share what it holds
HERE = Path(__file__).resolve().parent


def folder() -> Path | None:
    value = os.environ.get(CACHE)
    return Path(value) if value else None


def key(parts, modules) -> str:
    """The hash of the inputs (arrays by bytes, the rest as JSON), the source of attn_steps' modules named, numpy's version."""
    h = hashlib.sha256(np.__version__.encode())
    for module in sorted(modules):
        h.update(module.encode() + (HERE / module).read_bytes())
    for part in parts:
        if isinstance(part, np.ndarray):
            h.update(f"{part.dtype}{part.shape}".encode() + np.ascontiguousarray(part).tobytes())
        else:
            h.update(json.dumps(part, sort_keys=True, ensure_ascii=False, default=str).encode())
    return h.hexdigest()


def store(path: Path, value) -> None:
    """Keep value at path, written whole or not at all."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem[:8]}-")  # then renamed: nobody reads half of it
    with os.fdopen(fd, "wb") as f:
        pickle.dump(value, f, protocol=pickle.HIGHEST_PROTOCOL)
    os.replace(tmp, path)


def cached(name: str, parts, modules, compute):
    """compute(), or the result an earlier part of this run kept for the same inputs and code (ATTN_HEAD_CACHE set)."""
    where = folder()
    if where is None:
        return compute()
    path = where / f"{name}-{key(parts, modules)}.pickle"
    if path.is_file():
        with open(path, "rb") as f:
            return pickle.load(f)
    value = compute()
    store(path, value)
    return value
