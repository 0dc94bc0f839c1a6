"""The table of stages and the options a Steps records: one title, one colour rule, for figures and the explorer."""

import numpy as np
import pytest
import torch

import attn_steps as ats
from attn_steps import stages

RNG = np.random.default_rng(3)


def test_every_stage_of_steps_has_one_row_in_the_table():
    """If this broke, a stage would have no title, colour or caption somewhere."""
    s = ats.self_attention(RNG.standard_normal((4, 5)), ats.init_weights(5, 3), causal=True)
    assert list(s.stages()) == [row.name for row in stages.STAGES]
    for name, df in s.stages().items():
        assert df.attrs["stage"] == name and df.attrs["kind"] == stages.STAGE[name].kind


@pytest.mark.parametrize("options, scaled, weights", [
    ({}, "Q·Kᵀ/√d_k", "softmax(Q·Kᵀ/√d_k)"),
    ({"scale": False}, "Q·Kᵀ (not scaled)", "softmax(Q·Kᵀ)"),
    ({"temperature": 2.0}, "Q·Kᵀ/√d_k/τ", "softmax(Q·Kᵀ/√d_k/τ)"),
    ({"scale": False, "temperature": 0.5}, "Q·Kᵀ/τ", "softmax(Q·Kᵀ/τ)"),
    ({"masked": True}, "Q·Kᵀ/√d_k", "softmax(Q·Kᵀ/√d_k + M)"),
    ({"scale": False, "masked": True}, "Q·Kᵀ (not scaled)", "softmax(Q·Kᵀ + M)"),
])
def test_formulas_follow_the_options(options, scaled, weights):
    assert stages.formula("scaled", **options) == scaled
    assert stages.formula("weights", **options) == weights
    assert stages.formula("output", **options) == weights + "·V"


def test_steps_record_the_options_that_made_them():
    """If this broke, ats.explore would have to guess how a Steps was computed."""
    X, W = RNG.standard_normal((5, 4)), ats.init_weights(4, 3, seed=1)
    plain = ats.self_attention(X, W)
    assert (plain.scale, plain.temperature, plain.mask) == (True, 1.0, None)
    s = ats.self_attention(X, W, scale=False, causal=True, temperature=2.0)
    assert (s.scale, s.temperature) == (False, 2.0)
    np.testing.assert_array_equal(s.mask.to_numpy(), np.tril(np.ones((5, 5), dtype=bool)))
    assert s.masked.attrs["formula"] == "Q·Kᵀ/τ + M" and s.output.attrs["formula"] == "softmax(Q·Kᵀ/τ + M)·V"
    for b in ats.batch_attention(ats.pad_batch([X, X[:3]]), W, scale=False):
        assert b.scale is False and b.scaled.attrs["formula"] == "Q·Kᵀ (not scaled)"
        np.testing.assert_array_equal(b.mask.to_numpy(), np.isfinite(b.masked.to_numpy()))


@pytest.mark.parametrize("tau", [0.25, 1.0, 3.0])
def test_temperature_matches_torch_with_its_scale(tau):
    """τ divides the scaled scores: torch's scale argument 1/(√d_k·τ) gives the same output."""
    X, W = RNG.standard_normal((6, 5)), ats.init_weights(5, 4, seed=2)
    s = ats.self_attention(X, W, temperature=tau)
    q, k, v = (torch.tensor(df.to_numpy()) for df in (s.Q, s.K, s.V))
    expected = torch.nn.functional.scaled_dot_product_attention(q, k, v, scale=1 / (2.0 * tau)).numpy()
    np.testing.assert_allclose(s.output.to_numpy(), expected, rtol=0, atol=1e-12)
    np.testing.assert_allclose(s.scaled.to_numpy(), s.scores.to_numpy() / 2.0 / tau, rtol=0, atol=0)


def test_a_bad_temperature_is_refused():
    with pytest.raises(ValueError, match="temperature must be a positive number"):
        ats.self_attention(np.ones((2, 2)), ats.init_weights(2, 2), temperature=0)


def test_the_explorer_colours_are_matplotlibs():
    """The stops the explorer interpolates are the colours ats.heatmap draws: within 3/255 of ColorBrewer's,
    from which matplotlib's RdBu_r and Blues are made (its 256-colour table rounds them a little)."""
    brewer = {"signed": ["#053061", "#2166ac", "#4393c3", "#92c5de", "#d1e5f0", "#f7f7f7",
                         "#fddbc7", "#f4a582", "#d6604d", "#b2182b", "#67001f"],
              "prob": ["#f7fbff", "#deebf7", "#c6dbef", "#9ecae1", "#6baed6", "#4292c6", "#2171b5", "#08519c", "#08306b"]}
    for kind, expected in brewer.items():
        got = stages.colour_stops(kind)
        channels = lambda hexes: np.array([[int(h[k:k + 2], 16) for k in (1, 3, 5)] for h in hexes])  # noqa: E731
        assert len(got) == len(expected) and np.abs(channels(got) - channels(expected)).max() <= 3, kind


def test_one_text_colour_rule():
    """White on the dark ends of both scales, black on the light middle: the rule ats.heatmap and the explorer share."""
    assert stages.text_colour(0.02, 0.19, 0.38) == "white"  # RdBu_r's darkest blue
    assert stages.text_colour(0.97, 0.97, 0.97) == "black"
    assert stages.text_colour(0.03, 0.19, 0.42) == "white"  # Blues' darkest


def test_every_written_value_has_aa_contrast_on_its_cell():
    """If this broke, a value on a mid-coloured cell (e.g. 158 on RdBu_r's light red) would fall under 4.5:1."""
    lin = lambda v: v / 12.92 if v <= 0.04045 else ((v + 0.055) / 1.055) ** 2.4  # noqa: E731
    lum = lambda rgb: sum(w * lin(v) for w, v in zip((0.2126, 0.7152, 0.0722), rgb))  # noqa: E731
    import matplotlib
    for name in ("RdBu_r", "Blues"):
        for t in np.linspace(0, 1, 201):
            rgb = matplotlib.colormaps[name](t)[:3]
            text = 1.0 if stages.text_colour(*rgb) == "white" else 0.0
            hi, lo = sorted((lum(rgb), text), reverse=True)
            assert (hi + 0.05) / (lo + 0.05) >= 4.5, (name, t, rgb)
