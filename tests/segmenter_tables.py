"""The site's two lazily loaded tables, built once per test run (as tools/make_segmenter_dict.py builds them)."""

from __future__ import annotations

import functools

from attn_steps import segmenter, wordvecs

DIM = 10


@functools.lru_cache(maxsize=1)
def site_tables() -> tuple[dict, dict]:
    """(segmenter.to_json of the site dictionary, wordvecs.export_table of it at dim 10): about 15 s."""
    d = segmenter.site_dictionary()
    return segmenter.to_json(d), wordvecs.export_table(d, DIM)


@functools.lru_cache(maxsize=1)
def head_and_table():
    """Chapter 4's head (trained as the chapter trains it) and its per-word table: about 40 s."""
    import attn_steps as ats

    corpus = ats.apple_sentences()
    head = ats.train_head(corpus[corpus.split == "train"], seed=0)
    return head, wordvecs.export_head_table(head, segmenter.site_dictionary())
