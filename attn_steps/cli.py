"""Command line: text in, the step-through figure out.

    python -m attn_steps "我喜欢的水果是橙子和苹果" --dim 10 --dk 6 --seed 0 -o steps.png
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

FORMATS = {".png": "png", ".svg": "svg"}


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, no usage dump: the learner sees what is wrong
        raise _UsageError(message)


class _UsageError(Exception):
    pass


def _whole_number(minimum: int):
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be at least {minimum}, got {value}")
        return value

    return parse


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog="python -m attn_steps",
        description="Run scaled dot-product self-attention on a Chinese sentence and draw every "
        "stage (X, Q, K, V, Q·Kᵀ, Q·Kᵀ/√d_k, softmax, output) as labeled heatmaps in one figure.",
        epilog="Embeddings come from spaCy's zh_core_web_sm when it is installed, otherwise from an "
        "offline stand-in; the figure says which.",
    )
    p.add_argument("text", help="the sentence to run through attention, e.g. 我喜欢的水果是橙子和苹果")
    p.add_argument("--dim", type=_whole_number(1), default=10, help="how many numbers of each token's vector to keep (1-96; default 10)")
    p.add_argument("--dk", type=_whole_number(1), default=6, help="width d_k of queries and keys, and of values (default 6)")
    p.add_argument("--seed", type=_whole_number(0), default=0, help="seed of the random Wq, Wk, Wv (default 0)")
    p.add_argument("--no-scale", action="store_true", help="skip the division by √d_k")
    p.add_argument("--causal", action="store_true",
                   help="a decoder's causal mask: each token attends only to itself and earlier tokens")
    p.add_argument("-o", "--output", default="steps.png", help="file to write: .png or .svg (default steps.png)")
    return p


def _render(args) -> None:
    out = Path(args.output)
    fmt = FORMATS.get(out.suffix.lower())
    if fmt is None:
        raise ValueError(f"output must end in .png or .svg, got {out.name!r}")
    if not out.parent.is_dir():
        raise ValueError(f"the folder {str(out.parent)!r} does not exist")

    import matplotlib

    matplotlib.use("Agg")
    import attn_steps as ats

    X = ats.embed(args.text, dim=args.dim)
    W = ats.init_weights(d_model=args.dim, d_k=args.dk, seed=args.seed)
    steps = ats.self_attention(X, W, scale=not args.no_scale, causal=args.causal)
    fig = ats.plot_steps(steps)
    # Write beside the target and rename, so a failure never leaves half a file.
    fd, tmp = tempfile.mkstemp(suffix=out.suffix, dir=out.parent)
    os.close(fd)
    try:
        # The figure's alt text travels in the file (PNG iTXt / SVG <dc:description>) for whoever embeds it.
        fig.savefig(tmp, format=fmt, dpi=150, metadata={"Description": ats.alt_text.plain_text(fig)})
        os.replace(tmp, out)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def main(argv: list[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
        _render(args)
    except (_UsageError, ValueError, TypeError, RuntimeError) as err:
        first_line = str(err).splitlines()[0] if str(err) else type(err).__name__
        print(f"attn_steps: error: {first_line}", file=sys.stderr)
        return 2
    print(f"wrote {args.output}")
    return 0
