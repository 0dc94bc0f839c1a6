"""Results kept between the parts of one make test run (attn_steps/run_cache.py).

If these fail, a part of the run could read another input's result (a key that misses what
decides it), half a result, or a result where a reader's notebook should compute its own.
"""

from __future__ import annotations

import numpy as np
import pytest

import attn_steps as ats
from attn_steps import run_cache


def test_without_the_folder_everything_is_computed(monkeypatch):
    monkeypatch.delenv(run_cache.CACHE, raising=False)
    calls = []
    for _ in range(2):
        assert run_cache.cached("x", [1], ("run_cache.py",), lambda: calls.append(1) or 7) == 7
    assert len(calls) == 2


def test_with_the_folder_a_result_is_computed_once_and_kept_whole(monkeypatch, tmp_path):
    monkeypatch.setenv(run_cache.CACHE, str(tmp_path))
    calls = []
    for _ in range(3):
        assert run_cache.cached("x", [np.arange(3)], ("run_cache.py",), lambda: calls.append(1) or {"a": 1}) == {"a": 1}
    assert len(calls) == 1
    assert [p.name.startswith("x-") for p in tmp_path.iterdir()] == [True]  # no temporary file left beside it


@pytest.mark.parametrize("other", [np.arange(3.0), np.arange(4), np.arange(3).reshape(3, 1), [0, 1, 2], "012"])
def test_the_key_sees_every_input_bit(other):
    assert run_cache.key([np.arange(3)], ()) != run_cache.key([other], ())
    assert run_cache.key([np.arange(3)], ()) == run_cache.key([np.arange(3)], ())
    assert run_cache.key([1], ("run_cache.py",)) != run_cache.key([1], ("knockouts.py",))  # and the code


def test_a_kept_knockout_result_is_the_one_computed_afresh(monkeypatch, tmp_path):
    poet = ats.load_poet()
    monkeypatch.setenv(run_cache.CACHE, str(tmp_path))
    first = ats.knockout_poems(poet, seeds=range(2))
    kept = ats.knockout_poems(poet, seeds=range(2))
    monkeypatch.delenv(run_cache.CACHE)
    fresh = ats.knockout_poems(poet, seeds=range(2))
    assert kept.equals(fresh) and kept.attrs == fresh.attrs and first.equals(fresh)
    monkeypatch.setenv(run_cache.CACHE, str(tmp_path))
    assert ats.knockout_poems(poet, seeds=range(3)).shape == fresh.shape  # other seeds: another key, computed
    assert len(list(tmp_path.glob("knockout-poems-*.pickle"))) == 2
