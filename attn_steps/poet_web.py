"""The poet in the reader's browser: its weights as site files, and the widget that writes with them.

    ats.poet_widget(poet, roles=ats.head_roles(poet, poems))

`export_site(folder)` writes what the browser loads, only when a reader first
uses the widget: poet.json (the configuration, the vocabulary, model_id =
SHA-256 of weights.npz, each tensor's name, shape, kind and byte offset, each
head's mean output (what a knock-out puts in its place) and the 平水韵 table of
the vocabulary that verse.js reads)
and poet.bin (every array of weights.npz as stored: integer rows, int8 or
packed, with their scales; float16 or float32; little-endian). The browser
decodes them to float64 as attn_steps/poet_weights.py does, so its numbers are
bit for bit those of `read_weights`. The build writes them into
the site's _static/attn-poet/ (_ext/site_tables.py).

`poet_widget` returns a `widget.Widget` whose HTML inlines the scripts
(explorer_math.js's stages, stage_view.js and explorer_nav.js to draw a head,
explorer_export.js to take a stage away, verse.js for rhyme, poet_math.js for
the model, poet_input.js to check what the reader types, poet_head.js for one
head, files.js and poet_files.js to load the site's files (or, in Jupyter, the
kernel's: `PoetWidget.serve`), poet_steps.js to draw a step, poet_compare.js to
compare two poems, url_state.js and poet_link.js to keep the poem in the page's
address, poet_keys.js for the keyboard, poet_view.js for the page) and a JSON payload: the
configuration, the model_id the page expects, where the site keeps the files,
the book's table of stages, the head roles measured, the few numbers of the
measured effect of removing each head, the famous openings.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

import numpy as np
import pandas as pd

from . import explorer, verse
from .widget import Kind, Widget
from .poet import DATA, Poet, load_poet, read_folder
from .poet_weights import from_wire, read_weights, to_wire
from .head_roles import ROLES, named_roles
from .knockouts import COST, SLOTS

FOLDER = "_static/attn-poet/"  # relative to the site's root
MANIFEST, BINARY = "poet.json", "poet.bin"
SCRIPTS = ("explorer_math.js", "stage_view.js", "explorer_nav.js", "explorer_export.js", "files.js", "explorer_stage0.js",
           "verse.js", "poet_math.js", "poet_input.js", "poet_head.js", "poet_files.js", "poet_steps.js", "poet_compare.js",
           "url_state.js", "poet_link.js", "poet_keys.js", "poet_view.js")
STYLES = ("explorer.css", "poet.css")
MAX_PREFIX = 7  # the first line at most: the reader types the opening, the model writes the rest
OPENINGS = ("床前", "白日", "春眠", "空山", "红豆", "国破", "千山", "月落")
EFFECT_SLOTS = SLOTS  # ats.head_effects' slots, in the order the page shows them
EFFECT_STRONG = COST  # nats: a removal that costs at least this much at a slot is drawn bold (the bar for naming a job)


def weights_file(folder=None) -> Path:
    return (DATA if folder is None else Path(folder)) / "weights.npz"


def model_id(path) -> str:
    """SHA-256 of weights.npz: the page and the site's files must name the same model."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def manifest_and_binary(weights=None) -> tuple[dict, bytes]:
    """(poet.json's content, poet.bin's bytes) for the shipped weights, or a weights.npz written by tools/train_poet.py."""
    path = Path(weights) if weights is not None else weights_file()
    if path.is_dir():
        path = path / "weights.npz"
    if not path.is_file():
        raise FileNotFoundError(f"no poet weights at {path}: train them with `python -m tools.train_poet` (see "
                                "attn_steps/data/README.md)")
    info, vocab = read_folder(path.parent)
    with np.load(path) as z:
        arrays = {k: z[k] for k in z.files}
    tensors, binary = to_wire(arrays)
    config = {k: int(info[k]) for k in ("n_layer", "n_head", "n_embd", "block_size", "vocab_size")}
    if len(vocab) != config["vocab_size"]:
        raise ValueError(f"the vocabulary of {path.parent} has {len(vocab)} tokens, the model {config['vocab_size']}")
    manifest = {"model_id": model_id(path), "config": config, "vocab": vocab, "bytes": len(binary), "tensors": tensors}
    means = head_means(info, config)
    if means is not None:
        manifest["head_means"] = means
    manifest["rhyme"] = rhyme_table(vocab)
    return manifest, binary


def rhyme_table(vocab) -> dict[str, str]:
    """verse.js's table ({group: its characters}, verse.rhyme_table_json) for the characters of the vocabulary only:
    the page marks the rhyme characters of the poems the model writes, which are all in it."""
    known = set(vocab)
    table = {g: "".join(c for c in chars if c in known) for g, chars in json.loads(verse.rhyme_table_json()).items()}
    return {g: chars for g, chars in table.items() if chars}


def head_means(info: dict, config: dict) -> list | None:
    """model.json's head_means ([layer][head][head_size]: each head's mean output, what a knock-out puts in its
    place), checked, as the page reads them; None for a model stored without them (the page then removes heads
    only with knock_mode "zero")."""
    if info.get("head_means") is None:
        return None
    a = np.asarray(info["head_means"], dtype=np.float64)
    shape = (config["n_layer"], config["n_head"], config["n_embd"] // config["n_head"])
    if a.shape != shape or not np.isfinite(a).all():
        raise ValueError(f"model.json's head_means must be finite numbers of shape {shape} (n_layer, n_head, head_size), "
                         f"got shape {a.shape}")
    return a.tolist()


def export_site(folder, weights=None) -> dict:
    """Write poet.json and poet.bin into folder (made if missing); returns {file name: bytes written}."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    manifest, binary = manifest_and_binary(weights)
    text = json.dumps(manifest, ensure_ascii=False, separators=(",", ":")).encode()
    (folder / MANIFEST).write_bytes(text)
    (folder / BINARY).write_bytes(binary)
    return {MANIFEST: len(text), BINARY: len(binary)}


def read_site(folder) -> dict[str, np.ndarray]:
    """The float64 parameters as the browser computes them from the site's files: for tests and checks."""
    folder = Path(folder)
    manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    return from_wire(manifest["tensors"], (folder / BINARY).read_bytes())


def effects_payload(effects, config: dict) -> dict | None:
    """The few numbers of ats.head_effects' table the page shows when heads are removed: per slot (EFFECT_SLOTS
    order) the intact mean log p and each head's change, rounded to 3 decimals; None for no table."""
    if effects is None:
        return None
    need = {"layer", "head", "slot", "delta", "intact"}
    if not hasattr(effects, "columns") or not need <= set(effects.columns):
        raise TypeError("effects must be the DataFrame ats.head_effects(poet, poems) returns "
                        "(columns layer, head, slot, delta, intact)")
    unknown = set(effects["slot"]) - set(EFFECT_SLOTS)
    if unknown:
        raise ValueError(f"effects has slots {sorted(unknown)}: the page knows {', '.join(EFFECT_SLOTS)}")
    slots = [s for s in EFFECT_SLOTS if s in set(effects["slot"])]
    L, H = config["n_layer"], config["n_head"]
    if not effects["layer"].between(0, L - 1).all() or not effects["head"].between(0, H - 1).all():
        raise ValueError(f"effects names heads outside layers 0–{L - 1}, heads 0–{H - 1}: is it another model's table?")
    table = effects.pivot_table(index=["layer", "head"], columns="slot", values="delta", aggfunc="first")
    intact = effects.groupby("slot")["intact"].first()
    return {
        "slots": slots,
        "intact": [round(float(intact[s]), 3) for s in slots],
        "delta": {f"{l},{h}": [None if pd.isna(row[s]) else round(float(row[s]), 3) for s in slots]
                  for (l, h), row in table.iterrows()},
        "poems": effects.attrs.get("poems"),
        "mode": effects.attrs.get("knock_mode", "mean"),
        "strong": EFFECT_STRONG,
    }


@dataclass(frozen=True)
class PoetWidget(Widget):
    KIND: ClassVar[Kind] = Kind("poet", "attn-explorer attn-poet", SCRIPTS, STYLES, "AttnPoet",
                                "这个交互图需要 JavaScript：在浏览器里打开本页，或在 Jupyter 里运行这个单元格。")
    weights: Path | None = field(default=None, repr=False, compare=False)

    def __repr__(self) -> str:
        c = self.data["config"]
        return f"<attn_steps poet widget ({c['n_layer']} layers × {c['n_head']} heads): open it in a browser or Jupyter>"

    def serve(self, name: str) -> bytes | None:
        """poet.json and poet.bin, by the names the site keeps them under, made from the same weights."""
        if name not in (FOLDER + MANIFEST, FOLDER + BINARY):
            return None
        manifest, binary = manifest_and_binary(self.weights)
        if name.endswith(BINARY):
            return binary
        return json.dumps(manifest, ensure_ascii=False, separators=(",", ":")).encode()


def poet_widget(poet: Poet | None = None, roles=None, openings=OPENINGS, weights=None,
                title: str = "小诗人：在浏览器里写诗", effects=None) -> PoetWidget:
    """The poet writing in the reader's browser, every head of every layer open at every step, any head removable.

    poet: the model the page is about (default ats.load_poet()); its weights must be those
    the site ships (the page refuses files with another model_id). roles: ats.head_roles'
    DataFrame; a head is labelled with each role it clears both baselines on by 3×.
    effects: ats.head_effects' DataFrame (or None): when the reader writes with heads
    removed, the page shows what removing each of them costs at each slot.
    openings: the famous first characters offered as buttons (0 to 7 characters each).
    weights: the weights.npz the site's files are made from (default: the shipped one).
    """
    poet = load_poet() if poet is None else poet
    if not isinstance(poet, Poet):
        raise TypeError(f"poet must be an ats.Poet (ats.load_poet()), got {type(poet).__name__}")
    path = weights_file() if weights is None else Path(weights)
    path = path / "weights.npz" if path.is_dir() else path
    if not path.is_file():
        raise FileNotFoundError(f"no poet weights at {path}: the site's files are made from them")
    theirs, ours = read_weights(path), poet.state_dict()
    if any(not np.array_equal(v, ours[k]) for k, v in theirs.items()) or len(theirs) + 1 != len(ours):
        raise ValueError(f"{path} holds other weights than this poet's: the page would run another model")
    openings = [str(o) for o in openings]
    bad = [o for o in openings if len(o) > MAX_PREFIX or any(c not in poet.vocab[4:] for c in o)]
    if bad:
        raise ValueError(f"openings must be at most {MAX_PREFIX} characters of the model's vocabulary: {bad}")
    data = {
        "title": title,
        "config": {f: getattr(poet.config, f) for f in ("n_layer", "n_head", "n_embd", "block_size", "vocab_size")},
        "model_id": model_id(path),
        "folder": FOLDER,
        "max_prefix": MAX_PREFIX,
        "openings": openings,
        "roles": {} if roles is None else {f"{l},{h}": [ROLES[r].short for r in names]
                                           for (l, h), names in named_roles(roles).items()},
        "effects": effects_payload(effects, {"n_layer": poet.config.n_layer, "n_head": poet.config.n_head}),
        "settings": {"temperature": 0.8, "top_k": 20, "seed": 0},
        **explorer.stage_payload(),
        "x_note": "这一层的输入经 LayerNorm 之后的向量，再加一列常数 1（偏置的权重在 W 的最后一行）",
    }
    return PoetWidget.of(data, weights=path)
