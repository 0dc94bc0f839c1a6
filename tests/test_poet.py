"""The poet: numpy against PyTorch, every head a Steps, cached generation, its sampler, training, head roles, errors."""

import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

import attn_steps as ats
from attn_steps import gpt
from attn_steps import poet as poet_module
from attn_steps.attention import stable_softmax
from attn_steps.head_roles import ROLES
from attn_steps.verse import verse_form as form
from tools import train_poet
from tools.poet_torch import GPT, PoetTorchConfig

ROOT = Path(__file__).resolve().parents[1]
JINGYESI = "床前明月光，疑是地上霜。举头望明月，低头思故乡。"


@pytest.fixture(scope="module")
def poet():
    return ats.load_poet()


@pytest.fixture(scope="module")
def poems():
    return (poet_module.DATA / "test_poems.txt").read_text(encoding="utf-8").split()


def torch_model(poet) -> GPT:
    """tools/poet_torch.py's GPT in float64 holding the poet's (dequantised) weights, loaded strictly."""
    c = poet.config
    model = GPT(PoetTorchConfig(block_size=c.block_size, vocab_size=c.vocab_size, n_layer=c.n_layer,
                                n_head=c.n_head, n_embd=c.n_embd)).double().eval()
    model.load_state_dict({k: torch.from_numpy(v) for k, v in poet.state_dict().items()}, strict=True)
    return model


def test_numpy_forward_equals_torch(poet, poems):
    """If this broke, the probabilities the chapter shows would not be the model's: numpy and PyTorch would disagree."""
    model = torch_model(poet)
    for text in poems[:12] + [JINGYESI]:
        ids = poet.encode(text, errors="ignore")
        with torch.no_grad():
            expected = torch.softmax(model(torch.tensor([ids]))[0][0], -1).numpy()
        logits, _ = poet.forward([ids])
        assert np.abs(poet_module.stable_softmax(logits[0]) - expected).max() < 1e-5
    run = poet.run(JINGYESI)
    with torch.no_grad():
        expected = torch.softmax(model(torch.tensor([poet.encode(JINGYESI)]))[0][0], -1).numpy()
    assert np.abs(run.next_char.to_numpy() - expected).max() < 1e-5


def test_parts_equal_the_books_and_torchs():
    """If this broke, the model's LayerNorm or GELU would quietly differ from chapter 7's and PyTorch's."""
    rng = np.random.default_rng(0)
    x, g, b = rng.standard_normal((5, 8)), rng.standard_normal(8), rng.standard_normal(8)
    book = ats.layer_norm(x).to_numpy() * g + b
    assert np.allclose(gpt.ln(x, {"n.weight": g, "n.bias": b}, "n"), book, atol=1e-12)
    z = 4 * rng.standard_normal((3, 7))
    assert np.allclose(gpt.gelu(z), torch.nn.functional.gelu(torch.from_numpy(z)).numpy(), atol=1e-12)


def test_every_head_is_self_attention_of_its_inputs(poet):
    """If this broke, the heatmaps of the poet's heads would not be the book's stages on that head's Q, K, V."""
    run = poet.run(JINGYESI)
    _, weights = poet.forward([poet.encode(JINGYESI)])
    c = poet.config
    assert len(run.heads) == c.n_layer and all(len(layer) == c.n_head for layer in run.heads)
    assert run.labels[0] == "<s>" and len(set(run.labels)) == len(run.labels) == len(JINGYESI) + 1
    for i, layer in enumerate(run.heads):
        for j, steps in enumerate(layer):
            assert isinstance(steps, ats.Steps)
            again = ats.self_attention(steps.X, steps.W, causal=True)
            assert np.array_equal(again.weights.to_numpy(), steps.weights.to_numpy())
            assert np.allclose(steps.weights.to_numpy(), weights[i][0, j], atol=1e-12)
            assert (steps.X["1"] == 1).all() and steps.W.d_model == c.n_embd + 1 and steps.W.d_k == c.head_size
            assert np.allclose(np.triu(steps.weights.to_numpy(), 1), 0)  # causal: nothing from the future
    assert list(run.next_char.columns) == poet.vocab
    assert np.allclose(run.next_char.sum(axis=1), 1)


def test_cached_generation_equals_uncached(poet):
    """If this broke, the KV cache of chapter 8 would change the poem it is only meant to speed up."""
    for prefix, seed, top_k in (("", 0, 20), ("床前", 1, None), ("春风", 2, 5)):
        assert poet.generate(prefix, seed=seed, top_k=top_k) == poet.generate(prefix, seed=seed, top_k=top_k, cache=False)


def test_same_seed_same_poem(poet):
    """If this broke, a reader could not get back a poem they liked, nor the browser repeat the book's."""
    a = poet.generate("床前", seed=3, temperature=0.8, top_k=20)
    assert a == poet.generate("床前", seed=3, temperature=0.8, top_k=20)
    assert a.startswith("床前")
    assert len({poet.generate("床前", seed=s) for s in range(4)}) > 1


def test_sampler_is_the_javascript_one():
    """If this broke, the browser (mulberry32 in JS) would sample other poems than Python for the same seed."""
    r = poet_module.mulberry32(0)
    assert [next(r) for _ in range(3)] == [0.26642920868471265, 0.0003297457005828619, 0.2232720274478197]
    r = poet_module.mulberry32(4294967295)
    assert next(r) == 0.8964226141106337
    logits = np.zeros(10)
    logits[[5, 7]] = 3.0
    assert poet_module.draw(logits, 0.999, 1.0, 1) == 5  # a tie: the lower id
    assert poet_module.draw(logits, 0.999, 1.0, 2) == 7
    logits[[0, 1, 3]] = 100.0  # <pad>, <s>, <unk> are never drawn
    assert all(poet_module.draw(logits, u, 1.0, None) not in (0, 1, 3) for u in np.linspace(0, 0.999, 50))


def test_form_of_samples(poet):
    """If this broke, the shipped model would write lines of the wrong length or misplace ，and 。."""
    samples = [poet.generate("", seed=s, temperature=0.8, top_k=20) for s in range(10)]
    assert sum(train_poet.is_regular(s) for s in samples) >= 8, samples


def test_state_dict_round_trips(poet):
    """If this broke, a reader could not take the weights into nanoGPT's model.py and keep going."""
    state = poet.state_dict()
    c = poet.config
    C = c.n_embd
    assert state["transformer.wte.weight"].shape == (c.vocab_size, C)
    assert state["transformer.wpe.weight"].shape == (c.block_size, C)
    assert state["transformer.h.0.attn.c_attn.weight"].shape == (3 * C, C)
    assert state["transformer.h.0.mlp.c_fc.weight"].shape == (4 * C, C)
    assert np.array_equal(state["lm_head.weight"], state["transformer.wte.weight"])
    model = torch_model(poet)  # strict: every name and shape of the torch model, nothing more
    back = {k: v.numpy() for k, v in model.state_dict().items()}
    assert back.keys() == state.keys() and all(np.array_equal(back[k], state[k]) for k in state)
    state["transformer.wte.weight"][0, 0] += 1  # a copy: the model is untouched
    assert poet.state_dict()["transformer.wte.weight"][0, 0] != state["transformer.wte.weight"][0, 0]


def test_loss(poet, poems):
    """If this broke, the losses the chapter sets beside the unigram and bigram baselines would be wrong."""
    one = poet.loss([JINGYESI])
    ids = poet.encode(JINGYESI) + [2]
    logits, _ = poet.forward([ids[:-1]])
    logp = logits[0] - np.log(np.exp(logits[0]).sum(-1, keepdims=True))
    assert math.isclose(one, -logp[np.arange(len(ids) - 1), ids[1:]].mean(), rel_tol=1e-9)
    with pytest.warns(UserWarning, match="<unk>"):
        loss = poet.loss(poems[:40])
    assert loss < 5.0  # the unigram baseline is 6.40 and the bigram 5.45 (corpus.json)


def test_short_training_run_lowers_the_loss(tmp_path):
    """If this broke, `python -m tools.train_poet` could not retrain the model the book ships."""
    poems = tmp_path / "poems.txt"
    poems.write_text("".join(p + "\n" for p in (poet_module.DATA / "test_poems.txt").read_text(
        encoding="utf-8").split()[:300]), encoding="utf-8")
    out = tmp_path / "out"
    train_poet.main(["--n-layer", "1", "--n-head", "2", "--n-embd", "16", "--steps", "40", "--eval-every", "40",
                     "--batch", "32", "--warmup", "5", "--samples", "2", "--threads", "1", "--train", str(poems), "--val", str(poems),
                     "--test", str(poems), "--out", str(out)])
    log = (out / "train_log.csv").read_text().splitlines()
    first, last = float(log[1].split(",")[2]), float(log[-1].split(",")[2])
    assert last < first - 0.5
    small = ats.load_poet(out)
    assert small.config.n_layer == 1 and abs(small.loss(poems.read_text(encoding="utf-8").split()[:20]) - last) < 1.0


def test_what_storing_changes_is_measured_right(tmp_path):
    """If this broke, model.json (and chapter 9, which quotes it) would misstate what float16/int8 storage changes."""
    poems = tmp_path / "poems.txt"
    texts = (poet_module.DATA / "test_poems.txt").read_text(encoding="utf-8").split()[:200]
    poems.write_text("".join(p + "\n" for p in texts), encoding="utf-8")
    out, floats = tmp_path / "out", tmp_path / "float.npz"
    common = ["--samples", "2", "--threads", "1", "--train", str(poems), "--val", str(poems), "--test", str(poems),
              "--out", str(out)]
    train_poet.main(["--n-layer", "1", "--n-head", "2", "--n-embd", "16", "--steps", "30", "--eval-every", "30",
                     "--batch", "32", "--warmup", "5", "--float-out", str(floats), *common])
    with np.load(floats) as z:
        exact = ats.Poet(ats.load_poet(out).config, ats.load_poet(out).vocab, {k: z[k].astype(np.float64) for k in z.files})
    for how, kinds in ((["--bits"], {"int8"}), (["--float16", "transformer.wte.weight", "--bits"], {"int8", "float16"}),
                       (["--bits", "transformer.wte.weight=10", "transformer.h.0.*=12"], {"int8", "int10", "int12"})):
        train_poet.main(["--from-float", str(floats), *how, *common])
        stored = ats.load_poet(out)
        info = stored.info
        assert set(info["storage"]) - {"float32"} == kinds and info["steps"] == 30  # the training's fields are kept
        agree, worst, n = 0, 0.0, 0
        with pytest.warns(UserWarning, match="<unk>"):
            for text in texts:
                ids = exact.encode(text) + [poet_module.END]
                pa, pb = (stable_softmax(m.forward([ids[:-1]])[0][0]) for m in (exact, stored))
                agree += int((pa.argmax(-1) == pb.argmax(-1)).sum())
                worst, n = max(worst, np.abs(pa - pb).max()), n + len(ids) - 1
        effect = info["storage_effect_on_test"]
        assert effect["positions"] == n
        assert abs(effect["top1_agreement"] * n - agree) <= 2  # torch computes in float32, numpy in float64: a near-tie may differ
        assert effect["top1_agreement_drawable"] > 0
        assert math.isclose(effect["max_abs_dp"], worst, rel_tol=0.02, abs_tol=1e-5)
        assert worst > 0  # stored weights are not the float ones


def test_train_tool_help():
    """If this broke, the documented retraining command would not even show its options."""
    out = subprocess.run([sys.executable, "-m", "tools.train_poet", "--help"], cwd=ROOT, capture_output=True,
                         text=True, timeout=60)
    assert out.returncode == 0 and "--n-layer" in out.stdout and "--seed" in out.stdout


def test_head_roles(poet, poems):
    """If this broke, the chapter's table of what each head does would hold numbers that are not shares of attention."""
    df = ats.head_roles(poet, poems[:60])
    c = poet.config
    assert len(df) == len(ROLES) * c.n_layer * c.n_head
    assert {"role", "layer", "head", "score", "untrained", "uniform", "queries"} <= set(df.columns)
    values = df[["score", "untrained", "uniform"]].to_numpy()
    assert np.isfinite(values).all() and (values >= 0).all() and (values <= 1 + 1e-9).all()
    # the untrained model attends almost evenly: its scores sit near the uniform baseline
    assert (df.untrained - df.uniform).abs().max() < 0.05
    # the uniform baseline by hand, for one four-line poem of five characters
    one = [p for p in poems if form(p) == (5, 4)][:1]
    u = ats.head_roles(poet, one)
    prev = u[u.role == "previous character"].uniform.iloc[0]
    assert math.isclose(prev, np.mean([1 / (q + 1) for q in range(2, 25)]))


def test_bad_input_is_refused_with_a_sentence(poet):
    """If this broke, a learner's typo would end in a traceback from deep inside numpy instead of a sentence."""
    with pytest.raises(TypeError, match="string"):
        poet.encode(123)
    with pytest.raises(TypeError, match="string"):
        poet.run(["床前"])
    with pytest.raises(ValueError, match="empty"):
        poet.run("")
    with pytest.raises(ValueError, match="at most 64 fit the model's context"):
        poet.run("床" * poet.config.block_size)
    with pytest.raises(ValueError, match="at most 63"):
        poet.generate("床" * 64)
    with pytest.warns(UserWarning, match="'A'"):
        ids = poet.encode("床A")
    assert ids == [1, poet.vocab.index("床"), 3]
    with pytest.raises(ValueError, match="'A'"):
        poet.encode("床A", errors="raise")
    with pytest.raises(TypeError, match="list"):
        poet.loss(JINGYESI)
    with pytest.raises(ValueError, match="empty"):
        poet.loss([])
    for t in (0, -1.0, float("nan"), True):
        with pytest.raises(ValueError, match="temperature"):
            poet.generate("床前", temperature=t)
    for k in (0, poet.config.vocab_size + 1):
        with pytest.raises(ValueError, match="top_k"):
            poet.generate("床前", top_k=k)
    with pytest.raises(TypeError, match="top_k"):
        poet.generate("床前", top_k=2.5)
    for s in (1.5, True, -1, "0"):
        with pytest.raises(ValueError, match="seed"):
            poet.generate("床前", seed=s)
    with pytest.raises(ValueError, match="vocabulary"), pytest.warns(UserWarning):
        poet.generate("A")
    assert isinstance(poet.generate("", seed=0), str)  # an empty prefix starts from <s>
    with pytest.raises(ValueError, match="regular"):
        ats.head_roles(poet, ["床前明月光"])


def test_seed_summary(tmp_path):
    """If this broke, the spread over seeds reported for issue 22 (tools/poet_seeds.py) would be misread or misstated."""
    from tools import poet_seeds

    def run(seed, test, correct, top1):
        folder = tmp_path / f"s{seed}"
        folder.mkdir()
        info = {"n_layer": 2, "n_head": 4, "n_embd": 64, "seed": seed, "steps": 2000, "parameters": 296512,
                "loss_nats_per_token": {"test": test, "test_stored": test + 0.001}, "wall_seconds": 600,
                "form_rate": {"samples": 200, "correct": correct}, "weights_bytes": 1,
                "storage_effect_on_test": {"top1_agreement": top1}}
        (folder / "model.json").write_text(__import__("json").dumps(info), encoding="utf-8")
        return folder

    text = poet_seeds.summary([poet_seeds.read_run(run(s, *v)) for s, v in enumerate(
        [(4.5, 190, 0.99), (4.6, 196, 0.995), (4.7, 200, 0.999)])])
    assert "test mean 4.600 min 4.500 max 4.700" in text and "form mean 97.7% min 95.0% max 100.0%" in text
    (tmp_path / "old").mkdir()
    (tmp_path / "old" / "model.json").write_text('{"seed": 0}', encoding="utf-8")
    with pytest.raises(SystemExit, match="--from-float"):
        poet_seeds.read_run(tmp_path / "old")


def test_readme_states_the_shipped_model(poet):
    """If this broke, the README would describe another model than the one attn_steps ships."""
    text = " ".join((ROOT / "README.md").read_text(encoding="utf-8").split())
    info, c = poet.info, poet.config
    effect, storage = info["storage_effect_on_test"], info["storage"]
    words = {1: "one", 2: "two", 4: "four"}
    for claim in (f"{c.n_layer} layers × {c.n_head} heads × {c.n_embd} ({poet.n_params():,} parameters)",
                  f"Test loss {info['loss_nats_per_token']['test']:.2f} nats per character",
                  f"{info['form_rate']['correct']} of {info['form_rate']['samples']} poems sampled at temperature 0.8",
                  f"Trained in {info['wall_seconds'] / 60:.0f} minutes on {words[info['threads']]} threads",
                  f"({info['weights_bytes'] / 1000:.0f} KB)", f"agrees on {effect['top1_agreement']:.2%} of the test positions",
                  f"--n-layer {c.n_layer} --n-head {c.n_head} --n-embd {c.n_embd} --steps {info['steps']} --seed {info['seed']}"):
        assert claim in text, claim
    assert storage["int10"] == ["transformer.wte.weight"] and "10 bits for the token embedding" in text
    assert sorted(storage["int12"]) == sorted(n for n in poet.state_dict() if n.startswith("transformer.h.0.") and
                                              n.endswith("weight") and poet.state_dict()[n].ndim == 2)
    assert "12 for the first layer" in text
    runs = [r for r in __import__("json").loads((poet_module.DATA / "seeds.json").read_text(encoding="utf-8"))
            if r["size"] == f"{c.n_layer}×{c.n_head}×{c.n_embd}"]
    assert sorted(r["seed"] for r in runs) == [0, 1, 2] and next(r for r in runs if r["seed"] == 0)["test"] == \
        info["loss_nats_per_token"]["test"]
    lo, hi = (f(r[k] for r in runs) for f in (min, max) for k in ("test",))
    form = sorted(round(r["form"] * r["samples"]) for r in runs)
    top1 = sorted(r["top1"] for r in runs)
    assert (f"Seeds 0, 1 and 2 of the same command: test loss {lo:.2f} to {hi:.2f}, {form[0]} to {form[-1]} of "
            f"{runs[0]['samples']} poems of correct form, top-1 agreement of the stored weights {top1[0]:.2%} to "
            f"{top1[-1]:.2%}") in text
    assert all(r["test"] <= 4.3 and r["form"] >= 0.95 and r["top1"] >= 0.99 for r in runs)  # issue 22's and 23's targets
