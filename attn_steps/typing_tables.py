"""The tables a typed sentence needs: the same bytes on the site and from the kernel.

On the built site they are files under TABLES (tools/make_segmenter_dict.py writes them at
build time); in a Jupyter front end the live explorer (attn_steps/live.py) asks the kernel
for them by the same names. Either way explorer_typing.js reads them on the first keystroke:

- segmenter-dict.json  the book's dictionary, cut from jieba's dict.txt (segmenter.site_dictionary);
- wordvecs-d10.json    per-word vectors at the walkthrough's size, from the embedding source in use;
- head-ch4.json        chapter 4's trained head, two numbers per word (wordvecs.export_head_table).
"""

from __future__ import annotations

import json
from functools import lru_cache

TABLES = "_static/attn-tables/"  # relative to the site's root; a page finds its root from Sphinx's data-content_root
DIM = 10  # the walkthrough's size: the vector table has 10 numbers per word
DICTIONARY, VECTORS, HEAD = "segmenter-dict.json", f"wordvecs-d{DIM}.json", "head-ch4.json"


def dumps(data: dict) -> bytes:
    """A table as the page reads it: compact JSON, keys sorted (the same inputs give the same bytes)."""
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode("utf-8")


@lru_cache(maxsize=1)
def _dictionary():
    from .segmenter import site_dictionary

    return site_dictionary()


@lru_cache(maxsize=2)
def _plain(name: str) -> bytes:
    from .segmenter import to_json
    from .wordvecs import export_table

    d = _dictionary()
    return dumps(to_json(d)) if name == DICTIONARY else dumps(export_table(d, DIM))


def table(name: str, head=None) -> bytes | None:
    """The bytes of one table by its file name (None for a name that is not one of them, or HEAD without a head)."""
    if name in (DICTIONARY, VECTORS):
        return _plain(name)
    if name == HEAD and head is not None:
        from .wordvecs import export_head_table

        return dumps(export_head_table(head, _dictionary()))
    return None


def tables(head) -> dict[str, bytes]:
    """All three, for the site (head: chapter 4's, as the chapter trains it)."""
    return {name: table(name, head) for name in (DICTIONARY, VECTORS, HEAD)}
