"""An explorer of the step-through that runs in the browser, in Jupyter and on the static site.

`explore(text_or_steps, ...)` returns an object whose HTML is the whole
explorer: X (embedded here, in Python), the settings and the table of stages
(stages.py: formulas, captions, colours) as JSON, and two small scripts,
inlined: explorer_math.js computes every later stage the way attention.py
does, function for function; explorer_view.js draws them and redraws when a
reader changes a setting. No kernel, server or network is needed once the
HTML exists. In a Jupyter front end the same scripts run live (widget.py, live.py), and
the text field's tables come from the kernel (`Explorer.serve`) instead of the site.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np
import pandas as pd

from . import checks, stages, typing_tables
from .attention import Steps, Weights, as_frame
from .embeddings import SHORT_SOURCE, embed
from .typing_tables import TABLES
from .widget import Kind, Widget

MAX_TOKENS = 64  # beyond this a 64×64 strip of numbers is no longer legible
MAX_D_K = 96  # chapter 2 §12 compares d_k = 6, 24 and 96; wider Q/K/V panels scroll inside their stage

# Inlined in this order: the math, the stage renderer and navigator every widget shares, the controls,
# the live checks of the softmax and the output, where files come from (site or kernel), the segmenter and word vectors a typed sentence needs,
# the downloads, the text field, the link (the view kept in the page's address), then the view that
# calls them (it starts every explorer on the page).
SCRIPTS = ("explorer_math.js", "stage_view.js", "explorer_nav.js", "explorer_controls.js", "explorer_checks.js", "files.js",
           "segmenter.js", "wordvecs.js", "explorer_export.js", "explorer_stage0.js", "explorer_typing.js",
           "url_state.js", "explorer_link.js", "explorer_view.js")
TYPED_DIM = typing_tables.DIM  # the walkthrough's size: the word-vector table has 10 numbers per word
MAX_TYPED_CHARS = 120  # a typed sentence: beyond this the strips of numbers are no longer legible
SOURCE_OF_GIVEN_X = "X 是本页直接给出的矩阵，不来自词嵌入"  # when X was passed in, not embedded


@dataclass(frozen=True)
class Explorer(Widget):
    """The explorer's HTML (`html`) and the data it starts from (`data`); displays itself in Jupyter.

    head: chapter 4's trained head when the text field runs a typed sentence through it (its table is
    made from it when the live explorer asks the kernel)."""

    head: object = field(default=None, repr=False, compare=False)
    KIND: ClassVar[Kind] = Kind("explorer", "attn-explorer", SCRIPTS, ("explorer.css",), "AttnExplorer")

    def __repr__(self) -> str:
        return f"<attn_steps explorer of {' '.join(self.data['tokens'])!r}: open it in Jupyter or a browser>"

    def serve(self, name: str) -> bytes | None:
        """The typed sentence's tables, by the names the site keeps them under (typing_tables)."""
        if self.data["typing"] is None or not name.startswith(TABLES):
            return None
        return typing_tables.table(name[len(TABLES):], self.head)


def _settings(d_k, seed, std, scale, temperature) -> dict:
    d_k = checks.positive_int(d_k, "d_k")
    if d_k > MAX_D_K:
        raise ValueError(f"d_k must be at most {MAX_D_K} in the explorer (it draws every column), got {d_k}")
    seed = checks.seed(seed)
    std = checks.positive_number(std, "std")
    temperature = checks.positive_number(temperature, "temperature")
    if not isinstance(scale, bool):
        raise TypeError(f"scale must be True or False, got {scale!r}")
    return {"d_k": d_k, "seed": seed, "std": std, "scale": scale, "temperature": temperature}


def _json_matrix(a) -> list:
    """A matrix as nested lists of Python floats (ints stay ints), which JSON writes exactly."""
    a = np.asarray(a)
    if np.issubdtype(a.dtype, np.integer) or (np.isfinite(a).all() and np.array_equal(a, np.round(a)) and np.abs(a).max() < 2**53):
        return [[int(v) for v in row] for row in a]
    return [[float(v) for v in row] for row in a]


def _fixed_weights(weights, d_model: int) -> dict:
    named = {"本页的权重": weights} if isinstance(weights, Weights) else weights
    if not isinstance(named, dict) or not named:
        raise TypeError("weights must be ats.Weights or a dict of name -> ats.Weights (e.g. {'训练后': w1, '随机': w2})")
    out = {}
    for name, w in named.items():
        if not isinstance(w, Weights):
            raise TypeError(f"weights[{name!r}] must be ats.Weights, got {type(w).__name__}")
        if w.Wq.shape[0] != d_model:
            raise ValueError(f"weights[{name!r}] expect {w.Wq.shape[0]} numbers per token, X has {d_model}")
        out[str(name)] = {"Wq": _json_matrix(w.Wq), "Wk": _json_matrix(w.Wk), "Wv": _json_matrix(w.Wv)}
    return out


def _query(query, tokens: list[str]) -> int:
    if query is None:
        return tokens.index("苹果") if "苹果" in tokens else len(tokens) - 1
    if isinstance(query, str):
        if query not in tokens:
            raise ValueError(f"query {query!r} is not one of the tokens {tokens}")
        return tokens.index(query)
    if isinstance(query, (int, np.integer)) and not isinstance(query, bool) and 0 <= query < len(tokens):
        return int(query)
    raise ValueError(f"query must be a token or its index (0 to {len(tokens) - 1}), got {query!r}")


def explore(
    source,
    *,
    d_k: int = 6,
    seed: int = 0,
    std: float = 1.0,
    scale: bool | None = None,
    temperature: float | None = None,
    dim: int = 10,
    weights=None,
    query=None,
    head=None,
    title: str = "注意力分步浏览器",
    x_source: str | None = None,
) -> Explorer:
    """The step-through as an explorer you can touch: every stage, where each number comes from, what-if controls.

    source: a sentence (embedded here with ats.embed(source, dim=dim)), a
    Steps (its X; its weights when it carries them, else random ones), or an X
    (DataFrame or array). The random weights for (seed, d_k, std) are those of
    ats.init_weights, drawn in the browser. weights: ats.Weights, or a dict
    of name -> Weights to switch between (e.g. trained and random); then
    seed, d_k and std are fixed. scale and temperature default to those a
    Steps was computed with (else True and 1), and a Steps' mask comes along.
    query: the token followed at the start (default 苹果 if present, else the
    last token).

    On the built site a reader can type a sentence of their own: the page cuts it
    (segmenter.js) and looks up per-word vectors (context=False) in the site's
    tables, loaded only then. That needs X of the walkthrough's size (dim 10)
    from embeddings; an X given by hand has no text field. head: chapter 4's
    trained head (ats.train_head, context=False); the typed sentence then goes
    through that head (its verdict and 苹果's attention row) instead of the strip.
    x_source: where an X that is not an embedding comes from, in Chinese, for the page
    to say (e.g. chapter 9: a layer's input after LayerNorm, with a column of ones).
    """
    mask = None
    if isinstance(source, str):
        X = embed(source, dim=dim)
    elif isinstance(source, Steps):
        X = source.X
        if weights is None and source.W is not None:
            weights = source.W
        scale = source.scale if scale is None else scale
        temperature = source.temperature if temperature is None else temperature
        if source.mask is not None:
            mask = source.mask.to_numpy()
    elif isinstance(source, (pd.DataFrame, np.ndarray)):
        X = as_frame(source)
    else:
        raise TypeError(f"explore takes a sentence (str), ats.Steps or an X matrix, got {type(source).__name__}")
    scale = True if scale is None else scale
    settings = _settings(d_k, seed, std, scale, 1.0 if temperature is None else temperature)
    tokens = [str(t) for t in X.index]
    if len(tokens) > MAX_TOKENS:
        raise ValueError(f"the explorer shows at most {MAX_TOKENS} tokens legibly, this text has {len(tokens)}: "
                         "explore a shorter passage, or draw it with ats.plot_steps")
    x = checks.matrix(X.to_numpy(), "X")
    settings["query"] = _query(query, tokens)
    fixed = None if weights is None else _fixed_weights(weights, x.shape[1])
    if fixed:
        first = next(iter(fixed))
        settings.update(weights=first, d_k=len(fixed[first]["Wq"][0]))
        for key in ("seed", "std"):
            settings.pop(key)
    source_text = X.attrs.get("source")
    if x_source is not None and (not isinstance(x_source, str) or not x_source.strip()):
        raise TypeError(f"x_source must be a sentence (str) saying where X comes from, got {x_source!r}")
    given = SOURCE_OF_GIVEN_X if x_source is None else x_source
    data = {
        "typing": _typing(source_text, x.shape[1], mask is not None, head),
        "title": title,
        "tokens": tokens,
        "X": _json_matrix(x),
        "mask": None if mask is None else mask.tolist(),
        "settings": settings,
        "weights": fixed,
        "max_d_k": MAX_D_K,
        "source": source_text or given,
        "source_short": SHORT_SOURCE.get(source_text, str(source_text)) if source_text else given,
        "x_note": stages.STAGE["X"].note if source_text else (x_source or "本页给出的输入"),
        **stage_payload(),
        "intro": "指向任何一格，「这个数从哪里来」一栏会写出它是怎么算出来的；点一个词跟随它；改设置，每一步都会重算。",
        "interval_ms": 1600,
    }
    return Explorer.of(data, head=head)


def stage_payload() -> dict:
    """What stage_view.js needs to draw any stage: the table of stages, captions, formula parts and colours."""
    return {
        "stages": [{k: v for k, v in row.items() if k != "caption"} for row in stages.table()],
        "captions": {row.name: row.caption for row in stages.STAGES},
        "formula_parts": stages.FORMULA_PARTS,
        "colours": {kind: stages.colour_stops(kind) for kind in stages.COLORMAPS},
        "text_colour": stages.TEXT_COLOUR,
    }


def _typing(source_text, width: int, masked: bool, head) -> dict | None:
    """What the text field needs: which tables to load and what to do with a typed sentence (None: no field)."""
    common = {"tables": TABLES, "max_chars": MAX_TYPED_CHARS, "source_names": dict(SHORT_SOURCE)}
    if head is not None:
        from .corpus import TARGET
        from .training import TrainedHead
        from .wordvecs import head_id

        if not isinstance(head, TrainedHead):
            raise TypeError(f"head must be a head from ats.train_head, got {type(head).__name__}")
        if head.settings["context"] or head.settings["self_attend"]:
            raise ValueError("the site's head table holds one fixed query per word: "
                             "only a head trained with context=False and self_attend=False can run on a typed sentence")
        return {**common, "mode": "head", "files": [typing_tables.DICTIONARY, typing_tables.HEAD],
                "head_id": head_id(head), "target": TARGET}
    if not source_text or width != TYPED_DIM or masked:
        # A hand-made X (chapter 1), another width (the site's vectors would not fit the weights),
        # or a mask made for this sentence's length: no text field.
        return None
    return {**common, "mode": "vectors", "files": [typing_tables.DICTIONARY, typing_tables.VECTORS],
            "dim": TYPED_DIM}
