"""The poet's sampler, written so that JavaScript (web/poet_math.js) repeats it draw for draw.

The special tokens' ids, the mulberry32 generator and `draw` (one token from
logits at a temperature, among the top k). attn_steps.poet.Poet.generate uses them.
"""

from __future__ import annotations

import math

import numpy as np

# PAD_ID: the id of <pad> (not masks.PAD, the label "[PAD]" of a padded row in chapter 7's batches).
PAD_ID, START, END, UNK = 0, 1, 2, 3
NEVER_SAMPLED = (PAD_ID, START, UNK)


def mulberry32(seed: int):
    """Tommy Ettinger's mulberry32: 32-bit state, floats in [0, 1) with 32 random bits, as in JS:

        a = a + 0x6D2B79F5 | 0; t = Math.imul(a ^ a >>> 15, 1 | a);
        t = t + Math.imul(t ^ t >>> 7, 61 | t) ^ t; return ((t ^ t >>> 14) >>> 0) / 4294967296;
    """
    M = 0xFFFFFFFF
    a = seed & M
    while True:
        a = (a + 0x6D2B79F5) & M
        t = ((a ^ (a >> 15)) * (a | 1)) & M
        t = ((t + (((t ^ (t >> 7)) * (t | 61)) & M)) & M) ^ t
        yield ((t ^ (t >> 14)) & M) / 4294967296


def draw(logits: np.ndarray, u: float, temperature: float, top_k: int | None) -> int:
    """One id from logits: special tokens masked, divided by the temperature, the top_k largest kept (ties: the lower id),
    softmax in float64, then the first id (in id order) whose running sum of exp exceeds u · total (inverse CDF)."""
    z = np.asarray(logits, dtype=np.float64) / temperature
    z[list(NEVER_SAMPLED)] = -np.inf
    order = np.lexsort((np.arange(len(z)), -z))  # by value descending, then id ascending
    keep = np.sort(order[:top_k] if top_k else order)
    keep = keep[np.isfinite(z[keep])]
    e = np.exp(z[keep] - z[keep].max())
    running = np.cumsum(e)  # left to right, as a JS loop adds
    return int(keep[min(np.searchsorted(running, u * running[-1], side="right"), len(keep) - 1)])


def check_settings(seeds, temperature, top_k, vocab_size: int) -> None:
    """The sampler's settings, checked: each seed 0..2**32 − 1, a temperature > 0, top_k None or 1..vocab_size."""
    for seed in seeds:
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or not 0 <= seed < 2 ** 32:
            raise ValueError(f"seed must be a whole number from 0 to 2**32 − 1, got {seed!r}")
    if isinstance(temperature, bool) or not isinstance(temperature, (int, float, np.integer, np.floating)) \
            or not math.isfinite(temperature) or temperature <= 0:
        raise ValueError(f"temperature must be a number > 0 (1 samples the model as it is, "
                         f"lower is more cautious), got {temperature!r}")
    if top_k is not None:
        if isinstance(top_k, bool) or not isinstance(top_k, (int, np.integer)):
            raise TypeError(f"top_k must be a whole number or None, got {top_k!r}")
        if not 1 <= top_k <= vocab_size:
            raise ValueError(f"top_k must be between 1 and {vocab_size} (the vocabulary), got {top_k}")
