"""Train the poet model (tools/poet_torch.py) on the Tang corpus and write what attn_steps ships.

    python -m tools.make_poem_corpus --package /tmp/cp/package     # once: the corpus cache
    python -m tools.train_poet --n-layer 4 --n-head 4 --n-embd 96 --steps 4000 --seed 0 --out attn_steps/data/poet

AdamW (weight decay 0.1 on matrices only), learning rate warmed up linearly,
then a cosine decay to a tenth; batches of poems, each `<s>` + poem + `</s>`,
padded with `<pad>` whose targets (−1) are ignored. Writes to --out:

- weights.npz: every matrix as integer rows with one float32 scale per row
  (int8, or more bits where --bits says: attn_steps/poet_weights.py), every
  vector as float32; lm_head.weight is not stored (tied to transformer.wte.weight).
- train_log.csv: step, train_loss, val_loss, lr, seconds.
- model.json: the configuration, losses with float and with stored weights, each head's
  mean output (tools/head_means.py),
  what storing changes on the test split (top-1 agreement, largest change of a
  probability), and the form rate of sampled poems.

--float-out keeps the float weights (not shipped); --from-float stores them
again, with other --bits, without training.
"""

from __future__ import annotations

import argparse
import copy
import csv
import json
import math
import sys
import time
from pathlib import Path

import numpy as np

from attn_steps.poet import END, NEVER_SAMPLED, PAD_ID, START, UNK
from attn_steps.poet_weights import BITS, TIED, dequantise, quantise, storage
from tools.head_means import record as record_head_means
from tools.make_poem_corpus import is_regular

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_CACHE = Path.home() / ".cache" / "attn_steps_poems"
VOCAB = ROOT / "attn_steps" / "data" / "poet" / "vocab.tsv"


def read_vocab(path: Path) -> list[str]:
    return [line.split("\t")[0] for line in path.read_text(encoding="utf-8").splitlines()]


def read_poems(path: Path) -> list[str]:
    return [line for line in path.read_text(encoding="utf-8").splitlines() if line]


def encode(poems, index, block_size):
    """(inputs, targets) int64 arrays, one row per poem: <s> poem </s>, padded (inputs <pad>, targets −1)."""
    x = np.full((len(poems), block_size), PAD_ID, dtype=np.int64)
    y = np.full((len(poems), block_size), -1, dtype=np.int64)
    for r, p in enumerate(poems):
        ids = [START] + [index.get(c, UNK) for c in p] + [END]
        x[r, :len(ids) - 1] = ids[:-1]
        y[r, :len(ids) - 1] = ids[1:]
    return x, y


def main(argv=None):
    """Parse, read the corpus, train, write the log, store the weights and what storing changes (or, with
    --from-float, only store again)."""
    args = parse(argv)
    import torch

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    vocab = read_vocab(args.vocab)
    index = {t: i for i, t in enumerate(vocab) if i > UNK}
    splits = {name: read_poems(getattr(args, name)) for name in ("train", "val", "test")}
    data = {name: encode(ps, index, args.block_size) for name, ps in splits.items()}
    if args.from_float:
        return restore(args, data, vocab)
    args.out.mkdir(parents=True, exist_ok=True)
    model, log, wall = train(args, data, len(vocab))
    write_log(args.out / "train_log.csv", log)
    floats = {k: t.detach().double().numpy() for k, t in model.state_dict().items() if k != TIED}
    if args.float_out:
        np.savez(args.float_out, **{k: v.astype(np.float32) for k, v in floats.items()})
    info = {
        "n_layer": args.n_layer, "n_head": args.n_head, "n_embd": args.n_embd, "block_size": args.block_size,
        "vocab_size": len(vocab), "seed": args.seed, "steps": args.steps, "batch": args.batch, "lr": args.lr,
        "warmup": args.warmup, "schedule": "linear warmup, cosine decay to lr/10", "optimizer": "AdamW(0.9, 0.99), wd 0.1 on matrices",
        "parameters": model.n_params(), "wall_seconds": round(wall, 1), "threads": args.threads,
        "train_poems": len(splits["train"]), "command": args.command,
    }
    store(model, floats, args, data, vocab, info)


def parse(argv=None) -> argparse.Namespace:
    """The command line; args.command is the command as model.json records it, args.bits a dict."""
    ap = argparse.ArgumentParser(description="Train the poet model and write weights.npz, train_log.csv, model.json.")
    ap.add_argument("--n-layer", type=int, default=4)
    ap.add_argument("--n-head", type=int, default=4)
    ap.add_argument("--n-embd", type=int, default=96)
    ap.add_argument("--steps", type=int, default=4000)
    ap.add_argument("--batch", type=int, default=64, help="poems per step")
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--warmup", type=int, default=100)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--block-size", type=int, default=65, help="<s> + the longest poem (64 characters)")
    ap.add_argument("--eval-every", type=int, default=250)
    ap.add_argument("--samples", type=int, default=200, help="poems sampled at temperature 0.8 for the form rate")
    ap.add_argument("--samples-out", type=Path, help="also write the sampled poems here, one a line")
    ap.add_argument("--train", type=Path, default=DEFAULT_CACHE / "train.txt")
    ap.add_argument("--val", type=Path, default=DEFAULT_CACHE / "val.txt")
    ap.add_argument("--test", type=Path, default=DEFAULT_CACHE / "test.txt")
    ap.add_argument("--vocab", type=Path, default=VOCAB)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--bits", nargs="*", default=[f"{k}={v}" for k, v in BITS.items()], metavar="PATTERN=B",
                    help="matrices stored as integer rows of B bits (8..16); every other matrix as int8 rows "
                         "(default: %(default)s)")
    ap.add_argument("--float16", nargs="*", default=[], metavar="NAME", help="matrices stored as float16 instead")
    ap.add_argument("--from-float", type=Path, metavar="NPZ",
                    help="no training: store the float weights an earlier run wrote with --float-out into --out, "
                         "whose model.json it keeps and completes")
    ap.add_argument("--float-out", type=Path, help="also write the float32 weights here (.npz, not shipped), to compare storage formats later")
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args(argv)
    args.command = "python -m tools.train_poet " + " ".join(argv if argv is not None else sys.argv[1:])
    try:
        args.bits = {k: int(v) for k, v in (item.rsplit("=", 1) for item in args.bits)}
    except ValueError:
        ap.error(f"--bits takes PATTERN=B items, e.g. transformer.wte.weight=10; got {args.bits}")
    return args


def lr_at(step: int, args) -> float:
    """Linear warmup over args.warmup steps, then a cosine decay to a tenth of args.lr."""
    if step < args.warmup:
        return args.lr * (step + 1) / args.warmup
    t = (step - args.warmup) / max(1, args.steps - args.warmup)
    return args.lr * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * t)))


def train(args, data, vocab_size: int):
    """The model trained for args.steps batches of args.batch poems; the log (a row every args.eval_every steps)
    and the wall time in seconds."""
    import torch

    from tools.poet_torch import GPT, PoetTorchConfig

    model = GPT(PoetTorchConfig(block_size=args.block_size, vocab_size=vocab_size, n_layer=args.n_layer,
                                n_head=args.n_head, n_embd=args.n_embd))
    decay = [p for n, p in model.named_parameters() if p.dim() >= 2]
    no_decay = [p for n, p in model.named_parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1}, {"params": no_decay, "weight_decay": 0.0}],
                            lr=args.lr, betas=(0.9, 0.99))
    gen = np.random.default_rng(args.seed)
    xtr, ytr = data["train"]
    start, log, train_loss = time.time(), [], None
    for step in range(args.steps + 1):
        if step % args.eval_every == 0 or step == args.steps:
            val = loss_on(model, *data["val"], limit=512)
            log.append(dict(step=step, train_loss=round(train_loss, 4) if step else None, val_loss=round(val, 4),
                            lr=lr_at(min(step, args.steps - 1), args), seconds=round(time.time() - start, 1)))
            print(log[-1], flush=True)
        if step == args.steps:
            break
        for g in opt.param_groups:
            g["lr"] = lr_at(step, args)
        rows = gen.integers(0, len(xtr), args.batch)
        width = int((ytr[rows] >= 0).sum(axis=1).max())  # no need to run the padding past the longest poem
        _, loss = model(torch.from_numpy(xtr[rows, :width]), torch.from_numpy(ytr[rows, :width]))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        train_loss = loss.item()
    return model, log, time.time() - start


def write_log(path: Path, log: list[dict]) -> None:
    """train_log.csv: step, train_loss (empty at step 0), val_loss, lr, seconds."""
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=["step", "train_loss", "val_loss", "lr", "seconds"])
        w.writeheader()
        for row in log:
            w.writerow({**row, "lr": f"{row['lr']:.6g}", "train_loss": "" if row["train_loss"] is None else row["train_loss"]})


def store(model, floats, args, data, vocab, info):
    """Write weights.npz (matrices as integer rows of args.bits, or float16; see attn_steps.poet_weights) and
    model.json: info plus the float and stored losses, what storing changes on the test split, the form rate
    of args.samples sampled poems, and each head's mean output (tools/head_means.py)."""
    import torch

    out = args.out
    float_val, float_test = loss_on(model, *data["val"]), loss_on(model, *data["test"])
    exact = copy.deepcopy(model)  # the float weights, beside the stored ones
    arrays = quantise(floats, float16=args.float16, bits=args.bits)
    np.savez(out / "weights.npz", **arrays)
    state = dequantise(arrays)  # as the book reads weights.npz
    state[TIED] = state["transformer.wte.weight"]  # tied, as nanoGPT's GPT holds it
    model.load_state_dict({k: torch.from_numpy(v).float() for k, v in state.items()}, strict=True)
    q_val, q_test = loss_on(model, *data["val"]), loss_on(model, *data["test"])
    samples = sample(model, args.samples, model.config.block_size, vocab, seed=info["seed"])
    kinds = storage(arrays)
    info = {
        **info,
        "storage": {kind: sorted(n for n, k in kinds.items() if k == kind) for kind in sorted(set(kinds.values()))},
        "loss_nats_per_token": {"val": round(float_val, 4), "test": round(float_test, 4),
                                "val_stored": round(q_val, 4), "test_stored": round(q_test, 4)},
        "storage_effect_on_test": storage_effect(exact, model, data["test"], len(vocab)),
        "form_rate": {"samples": len(samples), "correct": sum(is_regular(s) for s in samples), "temperature": 0.8,
                      "sampler": "torch.multinomial, stored weights, <pad>/<s>/<unk> masked, no top-k"},
        "weights_bytes": (out / "weights.npz").stat().st_size,
    }
    (out / "model.json").write_text(json.dumps(info, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    if args.samples_out:
        args.samples_out.write_text("".join(s + "\n" for s in samples), encoding="utf-8")
    record_head_means(out)  # what a "mean" knock-out puts in a head's place, from the stored weights
    print(json.dumps({k: v for k, v in info.items() if k != "storage"}, ensure_ascii=False, indent=1))


def storage_effect(exact, stored, test, vocab_size: int) -> dict:
    """What storing changes on the test split: top-1 agreement (all tokens, and the tokens the sampler can write)
    and the largest change of any next-token probability, a chunk at a time (the whole split takes gigabytes)."""
    import torch

    drawable = [i for i in range(vocab_size) if i not in NEVER_SAMPLED]
    x_test, y_test = test
    agree = agree_drawn = positions = 0
    max_dp = 0.0
    with torch.no_grad():
        exact.eval()
        stored.eval()
        for i in range(0, len(x_test), 128):
            xb, at = torch.from_numpy(x_test[i:i + 128]), torch.from_numpy(y_test[i:i + 128] >= 0)
            p_float, p_q = (torch.softmax(m(xb)[0].double(), -1) for m in (exact, stored))
            agree += int((p_float.argmax(-1) == p_q.argmax(-1))[at].sum())
            agree_drawn += int((p_float[..., drawable].argmax(-1) == p_q[..., drawable].argmax(-1))[at].sum())
            max_dp = max(max_dp, (p_float - p_q).abs().amax(-1)[at].max().item())
            positions += int(at.sum())
    return {"top1_agreement": round(agree / positions, 5), "top1_agreement_drawable": round(agree_drawn / positions, 5),
            "max_abs_dp": float(f"{max_dp:.3g}"), "positions": positions}


def restore(args, data, vocab):
    """Store again the float weights of an earlier run (--from-float): same model.json, new weights.npz."""
    import torch

    from tools.poet_torch import GPT, PoetTorchConfig

    info = json.loads((args.out / "model.json").read_text(encoding="utf-8"))
    for k in ("storage", "loss_nats_per_token", "storage_effect_on_test", "int8_effect_on_test", "form_rate", "weights_bytes"):
        info.pop(k, None)
    model = GPT(PoetTorchConfig(**{k: info[k] for k in ("block_size", "vocab_size", "n_layer", "n_head", "n_embd")}))
    with np.load(args.from_float) as z:
        floats = {k: z[k].astype(np.float64) for k in z.files}
    state = {k: torch.from_numpy(v).float() for k, v in floats.items()}
    state[TIED] = state["transformer.wte.weight"]
    model.load_state_dict(state, strict=True)
    info["stored_by"] = args.command
    store(model, floats, args, data, vocab, info)


def loss_on(model, x, y, limit=None):
    """Mean nats per predicted token over whole poems (end token included)."""
    import torch

    with torch.no_grad():
        model.eval()
        x, y = (x, y) if limit is None else (x[:limit], y[:limit])
        total, count = 0.0, 0
        for i in range(0, len(x), 256):
            xb, yb = torch.from_numpy(x[i:i + 256]), torch.from_numpy(y[i:i + 256])
            logits, _ = model(xb)
            nll = torch.nn.functional.cross_entropy(logits.view(-1, logits.size(-1)), yb.view(-1),
                                                    ignore_index=-1, reduction="sum")
            total += nll.item()
            count += int((yb >= 0).sum())
        model.train()
    return total / count


def sample(model, n, block_size, vocab, seed, temperature=0.8):
    """n poems sampled from <s> at the temperature, never <pad>, <s> or <unk>, each to </s> or the context's end."""
    import torch

    if n == 0:
        return []
    g = torch.Generator().manual_seed(seed)
    idx = torch.full((n, 1), START, dtype=torch.long)
    done = torch.zeros(n, dtype=torch.bool)
    with torch.no_grad():
        while idx.shape[1] < block_size + 1 and not done.all():
            logits = model(idx[:, -block_size:])[0][:, -1].double() / temperature
            logits[:, list(NEVER_SAMPLED)] = float("-inf")
            nxt = torch.multinomial(torch.softmax(logits, -1), 1, generator=g)
            nxt[done] = END
            done |= nxt[:, 0] == END
            idx = torch.cat([idx, nxt], 1)
    out = []
    for row in idx.tolist():
        chars = []
        for t in row[1:]:
            if t == END:
                break
            chars.append(vocab[t])
        out.append("".join(chars))
    return out


if __name__ == "__main__":
    main()
