"""What each head of the poet does: remove it, and measure what the model loses (chapter 9).

`head_roles` says where a head looks (the share of its attention on a pattern).
Where a head looks is not what it does: a head can look at the rhyme and
carry nothing, and a head that parks its attention on `<s>` (a sink: attending
there changes almost nothing) can carry the rhyme. The test that tells them
apart is the knock-out of interpretability work: replace one head's output by
its mean output (or zero), leave the rest of the model as it is, and measure

- `head_effects`: the change of log p per predicted character at each kind of
  slot (the position that writes a rhyme, a punctuation mark, a line's first
  character, any other character), and
- `knockout_poems`: the rhyme rate and the form rate of poems written with the
  head removed (the widget's sampler and settings, a fixed list of seeds).

A head is said to *do* a slot's job (`head_does`) only when removing it costs
at least `COST` nats there, more than removing any other head costs there, at
least `OVER_OTHER` × what its removal costs at ordinary characters, and more
than at any other job's slots: a head whose removal breaks everything is not
named for one slot, and a form head is not named for the rhyme it breaks too.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from . import run_cache
from .head_roles import ROLES, named_roles, regular_poems
from .verse import judged, rhyme_pairs, rhymes, verse_form

SLOTS = ("韵脚", "标点", "句首", "其他", "全部")
JOBS = ("韵脚", "标点", "句首")  # the slots a head can be named for
JOB_NAMES = {"韵脚": "押韵", "标点": "断句（标点）", "句首": "起句"}  # what a head that carries the slot does
SLOT_MEANINGS = {
    "韵脚": "写第 4、6、8 行末字（韵脚）的那一步：第 2 行的韵脚之前还没有可押的韵",
    "标点": "写逗号或句号的那一步",
    "句首": "写每一行第一个字的那一步",
    "其他": "写其余的字的那一步",
    "全部": "每一步，包括写结尾记号 </s>",
}
COST = 0.5  # nats per character at the slot: a head is named for a job only when removing it costs at least this,
OVER_OTHER = 3.0  # at least this many times its cost at ordinary characters (其他), and more than any other head's
MEAN_POEMS = slice(300, 600)  # test_poems() lines 301–600: each head's mean output (model.json head_means)
EFFECT_POEMS = slice(0, 200)  # test_poems() lines 1–200: what removing a head costs (disjoint from the means)
# The code a knock-out's numbers depend on: a result is kept between the parts of a make test run under a key of
# its inputs and this code (run_cache.py), since chapter 9 runs three times there (the build, the model double,
# JupyterLab) and its knock-outs take minutes.
MODULES = ("knockouts.py", "poet.py", "gpt.py", "poet_sampling.py", "poet_weights.py", "verse.py", "head_roles.py",
           "run_cache.py")


def poet_inputs(poet) -> list:
    """What of a poet decides a knock-out's numbers: its configuration, every parameter and each head's mean output."""
    params = poet.state_dict()
    means = poet.head_means
    return [str(poet.config), *(params[k] for k in sorted(params)), *(() if means is None else (np.asarray(means),))]


def slots(poem: str) -> list[str | None]:
    """The slot of each predicted token of a regular poem: its characters, then </s> (None: counted only in 全部)."""
    f = verse_form(poem)
    if f is None:
        raise ValueError(f"not a regular poem (4 or 8 lines of 5 or 7 characters, ，。 alternating): {poem!r}")
    L, _ = f
    out = []
    for k in range(len(poem)):
        line, col = divmod(k, L + 1)
        if col == L:
            out.append("标点")
        elif col == 0:
            out.append("句首")
        elif col == L - 1 and line % 2 == 1 and line >= 3:
            out.append("韵脚")
        else:
            out.append("其他")
    return out + [None]


def every_head(poet) -> list[tuple[int, int]]:
    return [(l, h) for l in range(poet.config.n_layer) for h in range(poet.config.n_head)]


def head_effects(poet, poems, knock_mode: str = "mean") -> pd.DataFrame:
    """One row per (layer, head, slot): delta, intact, positions.

    delta: the change of the mean log p (nats per predicted token) at that slot when
    only that head is removed (negative: the model got worse); intact: the mean
    log p there with nothing removed; positions: how many tokens were averaged.
    Only regular poems are used (df.attrs says how many were skipped); characters
    outside the vocabulary are read as <unk> and scored as that token.
    """
    kept, skipped = regular_poems(poems, poet.config.block_size)  # its checks of the arguments come first
    return run_cache.cached("effects", [*poet_inputs(poet), kept, skipped, knock_mode], MODULES,
                            lambda: _head_effects(poet, kept, skipped, knock_mode))


def _head_effects(poet, kept: list, skipped: int, knock_mode: str) -> pd.DataFrame:
    labels = np.array([s or "" for p in kept for s in slots(p)])
    masks = {s: (labels == s) if s != "全部" else np.ones(len(labels), dtype=bool) for s in SLOTS}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # <unk>: said in the docstring
        logp = {k: np.concatenate(v) for k, v in poet.knockout_logp(kept, every_head(poet), knock_mode).items()}
    intact = logp.pop(None)
    records = []
    for (layer, head), knocked in logp.items():
        for s in SLOTS:
            m = masks[s]
            records.append(dict(layer=layer, head=head, slot=s, delta=float(knocked[m].mean() - intact[m].mean()),
                                intact=float(intact[m].mean()), positions=int(m.sum())))
    df = pd.DataFrame(records)
    df.attrs.update(poems=len(kept), skipped=skipped, knock_mode=knock_mode)
    return df


def head_does(effects: pd.DataFrame, cost: float = COST, over_other: float = OVER_OTHER) -> pd.DataFrame:
    """For each job (韵脚, 标点, 句首): the head whose removal costs most there, the runner-up's cost, its cost at 其他
    and at its other jobs, and whether it does the job: cost ≥ `cost`, more than any other head's there, ≥ `over_other`
    × its cost at 其他, and more than its cost at any other job (a head whose removal breaks the form costs at the
    rhyme too; it is named for what it breaks most, not for everything it breaks)."""
    need = {"layer", "head", "slot", "delta"}
    if not hasattr(effects, "columns") or not need <= set(effects.columns):
        raise TypeError("effects must be the DataFrame ats.head_effects(poet, poems) returns")
    costs = -effects.set_index(["slot", "layer", "head"])["delta"]
    rows = []
    for job in JOBS:
        at = costs.loc[job].sort_values(ascending=False)
        (layer, head), (runner_layer, runner_head) = at.index[0], at.index[1]
        best, other = float(at.iloc[0]), float(costs.loc[("其他", layer, head)])
        elsewhere = max(float(costs.loc[(j, layer, head)]) for j in JOBS if j != job)
        does = bool(best >= cost and best > at.iloc[1] and best >= over_other * max(other, 0) and best > elsewhere)
        rows.append(dict(job=job, layer=int(layer), head=int(head), cost=best, runner_up=float(at.iloc[1]),
                         runner_layer=int(runner_layer), runner_head=int(runner_head), cost_other=other,
                         cost_other_jobs=elsewhere, does=does))
    return pd.DataFrame(rows).set_index("job")


def poem_stats(poems) -> dict:
    """Of some written poems: how many, how many of correct form, their rhyme pairs the 平水韵 table can judge
    (as verse.rhyme_rate counts them) and how many of those rhyme."""
    formed = [p for p in poems if verse_form(p) is not None]
    pairs = [(a, b) for p in formed for a, b in rhyme_pairs(p) if judged(a, b)]
    rhymed = sum(rhymes(a, b) for a, b in pairs)
    return dict(poems=len(poems), of_form=len(formed), pairs=len(pairs), rhymed=rhymed,
                form_rate=len(formed) / len(poems), rhyme_rate=rhymed / len(pairs) if pairs else np.nan)


def knockout_poems(poet, seeds=range(60), temperature: float = 0.8, top_k: int | None = 20,
                   knock_mode: str = "mean", prefix: str = "") -> pd.DataFrame:
    """One row per head: the poems written with it removed (one per seed, `poet.generate`'s sampler), their form rate and
    rhyme rate (the share of consecutive even-line ends that rhyme by the 平水韵 groups, over the poems of correct
    form and the pairs the table can judge), with the counts behind them; and the same for the intact model
    (intact_*). df.attrs holds the settings. A rate over few pairs says little: plot_rhyme_rates marks those."""
    seeds = list(seeds)
    return run_cache.cached("knockout-poems", [*poet_inputs(poet), seeds, temperature, top_k, knock_mode, prefix], MODULES,
                            lambda: _knockout_poems(poet, seeds, temperature, top_k, knock_mode, prefix))


def _knockout_poems(poet, seeds: list, temperature, top_k, knock_mode: str, prefix: str) -> pd.DataFrame:
    intact = poem_stats(poet.generate_many(prefix, seeds, temperature, top_k))
    rows = []
    for layer, head in every_head(poet):
        written = poet.generate_many(prefix, seeds, temperature, top_k, knock=[(layer, head)], knock_mode=knock_mode)
        rows.append(dict(layer=layer, head=head, **poem_stats(written),
                         **{f"intact_{k}": intact[k] for k in ("form_rate", "rhyme_rate", "of_form", "pairs", "rhymed")}))
    df = pd.DataFrame(rows)
    df.attrs.update(seeds=(seeds[0], seeds[-1], len(seeds)), temperature=temperature, top_k=top_k,
                    knock_mode=knock_mode, prefix=prefix)
    return df


def attention_at_slots(poet, poems) -> pd.DataFrame:
    """Where each head looks from the positions that write a rhyme (韵脚) and from every other position after <s>
    (其他位置): its mean share on <s> (the sink) and on the earlier rhyme characters (even-line ends before)."""
    kept, _ = regular_poems(poems, poet.config.block_size)
    c = poet.config
    sums = {s: np.zeros((c.n_layer, c.n_head, 2)) for s in ("韵脚", "其他位置")}
    counts = {s: 0 for s in sums}
    for poem in kept:
        L, n = verse_form(poem)
        _, weights = poet.forward([poet.encode(poem, errors="ignore")], logits=False)
        W = np.stack(weights, axis=1)[0]  # (n_layer, nh, T, T)
        ends = [j * (L + 1) + L for j in range(1, n, 2)]  # positions of the even lines' last characters
        labels = slots(poem)
        for k in range(1, len(poem)):  # query k writes character k (k = 0 only sees <s>)
            where = "韵脚" if labels[k] == "韵脚" else "其他位置"
            earlier = [e for e in ends if e <= k]
            sums[where][..., 0] += W[:, :, k, 0]
            sums[where][..., 1] += W[:, :, k, earlier].sum(axis=-1) if earlier else 0
            counts[where] += 1
    rows = []
    for where, total in sums.items():
        for layer in range(c.n_layer):
            for head in range(c.n_head):
                on_start, on_rhymes = total[layer, head] / counts[where]
                rows.append(dict(layer=layer, head=head, slot=where, on_start=on_start, on_rhymes=on_rhymes,
                                 queries=counts[where]))
    return pd.DataFrame(rows)


def head_table(roles: pd.DataFrame, effects: pd.DataFrame) -> pd.DataFrame:
    """Every head side by side: where it looks (the roles head_roles names for it) and what it does (the change of
    log p at each slot when it is removed, nats per character, and the job head_does names it for, if any).
    Chapter 9's table."""
    does = head_does(effects)
    jobs = {(r["layer"], r["head"]): job for job, r in does.iterrows() if r["does"]}
    looks = named_roles(roles)
    cost = effects.pivot_table(index=["layer", "head"], columns="slot", values="delta")
    rows = []
    for (layer, head), deltas in cost.iterrows():
        rows.append({"头": f"第{layer}层·头{head}",
                     "看哪里": "、".join(ROLES[r].short for r in looks.get((layer, head), [])) or "—",
                     **{s: deltas[s] for s in SLOTS[:4]},
                     "做什么": JOB_NAMES[jobs[(layer, head)]] if (layer, head) in jobs else "—"})
    return pd.DataFrame(rows).set_index("头")
