"""How the poet's weights are stored and read back (attn_steps/poet_weights.py).

If these fail, weights.npz would hold other numbers than the ones the model was
trained with by more than the stated rounding, or the book, the browser and
tools/train_poet.py would read different numbers from the same file.
"""

from __future__ import annotations

import numpy as np
import pytest

from attn_steps import poet_weights as pw


@pytest.fixture
def params():
    rng = np.random.default_rng(0)
    return {"transformer.wte.weight": rng.standard_normal((50, 16)) * 0.02,
            "transformer.h.0.attn.c_attn.weight": rng.standard_normal((48, 16)) * 0.3,
            "transformer.h.0.attn.c_attn.bias": rng.standard_normal(48) * 0.1,
            "lm_head.weight": np.zeros((50, 16))}


def test_int8_rows_move_each_number_by_at_most_half_a_step(params):
    """If this broke, the int8 rows would round by more than half of their own step (largest magnitude / 127)."""
    stored = pw.quantise(params, float16=())
    w, back = params["transformer.h.0.attn.c_attn.weight"], pw.dequantise(stored)["transformer.h.0.attn.c_attn.weight"]
    step = np.abs(w).max(axis=1, keepdims=True) / 127
    assert stored["transformer.h.0.attn.c_attn.weight.q"].dtype == np.int8
    assert (np.abs(back - w) <= step / 2 * (1 + 1e-6)).all() and np.abs(back - w).max() > 0


def test_float16_keeps_eleven_bits(params):
    """If this broke, a float16 matrix would lose more than float16's half unit in the last place (2**-11 relative)."""
    stored = pw.quantise(params, float16=["transformer.wte.weight"])
    w = params["transformer.wte.weight"]
    assert stored["transformer.wte.weight"].dtype == np.float16 and "transformer.wte.weight.q" not in stored
    back = pw.dequantise(stored)["transformer.wte.weight"]
    assert back.dtype == np.float64
    assert (np.abs(back - w) <= np.abs(w) * 2.0 ** -11 + 2.0 ** -25).all()
    assert np.abs(back - w).max() < np.abs(pw.dequantise(pw.quantise(params, float16=()))["transformer.wte.weight"] - w).max()


def test_what_is_stored_how(params):
    """If this broke, model.json would misreport the storage, or the tied output matrix would be stored twice."""
    stored = pw.quantise(params, float16=["transformer.wte.weight"])
    assert pw.storage(stored) == {"transformer.wte.weight": "float16", "transformer.h.0.attn.c_attn.weight": "int8",
                                  "transformer.h.0.attn.c_attn.bias": "float32"}
    assert not any(k.startswith(pw.TIED) for k in stored)
    assert pw.storage(pw.quantise(params, bits=pw.BITS)) == {"transformer.wte.weight": "int10",
                                                             "transformer.h.0.attn.c_attn.weight": "int12",
                                                             "transformer.h.0.attn.c_attn.bias": "float32"}


def test_bad_requests_are_refused(params):
    """If this broke, a typo in --float16 would silently store that matrix as int8, or float16 would overflow to inf."""
    with pytest.raises(KeyError, match="wte_typo"):
        pw.quantise(params, float16=["wte_typo"])
    with pytest.raises(ValueError, match="float16's range"):
        pw.quantise({"big": np.full((2, 2), 1e5)}, float16=["big"])


def test_written_file_reads_back(params, tmp_path):
    """If this broke, read_weights would not give what dequantise gives for the arrays written."""
    stored = pw.quantise(params)
    np.savez(tmp_path / "weights.npz", **stored)
    ours, theirs = pw.read_weights(tmp_path / "weights.npz"), pw.dequantise(stored)
    assert sorted(ours) == sorted(theirs) and all(np.array_equal(ours[k], theirs[k]) for k in ours)


@pytest.mark.parametrize("bits", [9, 10, 12, 16])
def test_packed_rows_round_to_their_own_step(params, bits):
    """If this broke, a matrix stored in more than 8 bits would come back as other numbers than its rounding."""
    name = "transformer.h.0.attn.c_attn.weight"
    stored = pw.quantise(params, bits={name: bits})
    assert stored[name + ".packed"].dtype == np.uint8 and stored[name + ".packed"].size == -(-48 * 16 * bits // 8)
    w, back = params[name], pw.dequantise(stored)[name]
    step = stored[name + ".scale"].astype(np.float64)[:, None]
    assert np.allclose(step[:, 0], np.abs(w).max(axis=1) / (2 ** (bits - 1) - 1), rtol=1e-6)
    assert (np.abs(back - w) <= step / 2 * (1 + 1e-6)).all()
    assert np.allclose(back / step, np.round(back / step), atol=1e-9)  # whole steps
    assert pw.storage(stored)[name] == f"int{bits}"


def test_pack_and_unpack_are_inverse():
    """If this broke, the bit stream (which the browser decodes the same way) would scramble the numbers."""
    rng = np.random.default_rng(1)
    for bits in (9, 10, 11, 12, 13, 16):
        v = rng.integers(0, 2 ** bits, 1001)
        v[:2] = [0, 2 ** bits - 1]
        packed = pw.pack(v, bits)
        assert packed.size == -(-1001 * bits // 8) and np.array_equal(pw.unpack(packed, bits, 1001), v)
    assert list(pw.pack([1, 2], 10)) == [1, 8, 0]  # 1 in bits 0..9, 2 in bits 10..19: bytes 0b1, 0b1000, 0
    with pytest.raises(ValueError, match="0..1023"):
        pw.pack([1024], 10)
    with pytest.raises(ValueError, match="fewer than"):
        pw.unpack(np.zeros(2, np.uint8), 10, 2)


def test_bits_are_checked(params):
    """If this broke, a mistyped width would silently store another precision than the one asked for."""
    with pytest.raises(ValueError, match="8 to 16"):
        pw.quantise(params, bits={"transformer.wte.weight": 20})
    assert pw.bits_for(params, {"transformer.h.*": 12}) == {"transformer.wte.weight": 8,
                                                           "transformer.h.0.attn.c_attn.weight": 12}
