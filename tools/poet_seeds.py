"""Loss and form rate of several training runs of the poet (folders written by tools/train_poet.py), and their spread.

    python -m tools.poet_seeds RUN_SEED0 RUN_SEED1 RUN_SEED2 [--json attn_steps/data/poet/seeds.json]

Prints one line per run (size, seed, test loss with float and stored weights, form rate, top-1 agreement of the
stored weights, wall time) and, for each size, the mean, min and max over its seeds.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def read_run(folder: Path) -> dict:
    path = Path(folder) / "model.json"
    if not path.is_file():
        raise SystemExit(f"{path}: not found (is {folder} a folder tools/train_poet.py wrote?)")
    info = json.loads(path.read_text(encoding="utf-8"))
    if "storage_effect_on_test" not in info:
        raise SystemExit(f"{path}: written before the storage was measured; run tools/train_poet.py --from-float on it")
    form = info["form_rate"]
    return {"size": f"{info['n_layer']}×{info['n_head']}×{info['n_embd']}", "seed": info["seed"], "steps": info["steps"],
            "parameters": info["parameters"], "test": info["loss_nats_per_token"]["test"],
            "test_stored": info["loss_nats_per_token"]["test_stored"], "form": form["correct"] / form["samples"],
            "samples": form["samples"], "top1": info["storage_effect_on_test"]["top1_agreement"],
            "minutes": info["wall_seconds"] / 60, "bytes": info["weights_bytes"]}


def summary(runs: list[dict]) -> str:
    lines = [f"{'size':<9} {'seed':>4} {'steps':>5} {'params':>8} {'test':>6} {'stored':>6} {'form':>6} {'top-1':>7} "
             f"{'min':>4} {'bytes':>8}"]
    for r in runs:
        lines.append(f"{r['size']:<9} {r['seed']:>4} {r['steps']:>5} {r['parameters']:>8,} {r['test']:>6.3f} "
                     f"{r['test_stored']:>6.3f} {r['form']:>6.1%} {r['top1']:>7.2%} {r['minutes']:>4.0f} {r['bytes']:>8,}")
    for size in dict.fromkeys(r["size"] for r in runs):
        mine = [r for r in runs if r["size"] == size]
        for key, fmt in (("test", "{:.3f}"), ("form", "{:.1%}"), ("top1", "{:.2%}")):
            values = [r[key] for r in mine]
            lines.append(f"{size} over seeds {sorted(r['seed'] for r in mine)}: {key} mean " + fmt.format(sum(values) / len(values))
                         + " min " + fmt.format(min(values)) + " max " + fmt.format(max(values)))
    return "\n".join(lines)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("runs", nargs="+", type=Path)
    ap.add_argument("--json", type=Path, help="also write the rows here (the README's seed sentence is checked against it)")
    args = ap.parse_args(argv)
    runs = [read_run(f) for f in args.runs]
    print(summary(runs))
    if args.json:
        args.json.write_text(json.dumps(runs, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
