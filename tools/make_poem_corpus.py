"""Derive the Tang regular-verse corpus of the poet model from chinese-poetry 2.0.1 (run by hand, once).

    mkdir -p /tmp/cp && (cd /tmp/cp && npm pack chinese-poetry@2.0.1 && tar xzf chinese-poetry-2.0.1.tgz)
    pip install -r tools/requirements-poet.txt          # opencc 1.4.x (and torch, for training)
    python -m tools.make_poem_corpus --package /tmp/cp/package

Keeps a poem only if it is regular verse: made of CJK characters and ，。 only,
4 or 8 lines, every line 5 or every line 7 characters, lines ending ，。，。…
Converts it to simplified characters with OpenCC t2s (which can pick a wrong
form in context and leaves some variants), removes duplicates, and splits
train / validation / test 90 / 5 / 5 by a hash of the text, so the split never
depends on the order of the files.

Writes, in the package (attn_steps/data/poet/): vocab.tsv (4 special tokens,
then the 3,000 most frequent training characters), test_poems.txt (a
deterministic subset of the test split) and corpus.json (counts and the
unigram / bigram baselines). Writes every split whole to --cache (outside the
repository) for tools.train_poet.
"""

from __future__ import annotations

import argparse
import collections
import glob
import hashlib
import json
import math
import os
import re
from pathlib import Path

SPECIALS = ["<pad>", "<s>", "</s>", "<unk>"]
VOCAB_CHARS = 3000
TEST_SHIPPED = 600
CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f"
LINE = re.compile(f"[{CJK}]+[，。]")
ONLY = re.compile(f"^[{CJK}，。]+$")
DEFAULT_CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "attn_steps_poems"
OUT = Path(__file__).resolve().parents[1] / "attn_steps" / "data" / "poet"


def lines(text: str) -> list[str]:
    """The lines of a poem, each with its closing ，or 。."""
    return LINE.findall(text)


def is_regular(text: str) -> bool:
    """4 or 8 lines, all of 5 or all of 7 characters, ，。 alternating, nothing but CJK and ，。."""
    if not ONLY.match(text):
        return False
    ls = lines(text)
    if "".join(ls) != text or len(ls) not in (4, 8):
        return False
    if {len(line) - 1 for line in ls} not in ({5}, {7}):
        return False
    return all(line[-1] == "，。"[i % 2] for i, line in enumerate(ls))


def split_of(text: str) -> str:
    """train / val / test, 90 / 5 / 5, from the first bytes of the text's SHA-256."""
    h = int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:4], "big") % 100
    return "train" if h < 90 else "val" if h < 95 else "test"


def read_poems(package: Path, convert) -> list[str]:
    """Every regular poem of dist/quantangshi/poet.tang.*.json, simplified, deduplicated, in file order."""
    files = sorted(glob.glob(str(package / "dist" / "quantangshi" / "poet.tang.*.json")),
                   key=lambda f: int(f.rsplit(".", 2)[-2]))
    seen, out, total = set(), [], 0
    for f in files:
        for poem in json.loads(Path(f).read_text(encoding="utf-8")):
            total += 1
            text = "".join(poem.get("paragraphs", []))
            if not is_regular(text):
                continue
            text = convert(text)
            if is_regular(text) and text not in seen:
                seen.add(text)
                out.append(text)
    print(f"{total} Tang poems read, {len(out)} regular after conversion and deduplication")
    return out, total


def ids_of(poem: str, index: dict[str, int]) -> list[int]:
    """<s> poem </s> as ids; a character outside the vocabulary is <unk>."""
    return [1] + [index.get(c, 3) for c in poem] + [2]


def baselines(train: list[str], val: list[str], test: list[str], index: dict[str, int], size: int) -> dict:
    """Unigram and interpolated-bigram nats per predicted token (end token included) on `test`.

    The unigram adds one to every count (so nothing has probability 0); the
    bigram P(c|prev) is the plain relative frequency, mixed as
    λ·P(c|prev) + (1−λ)·P(c) with the λ of 0.05, 0.10, ... 0.95 that is best on `val`.
    """
    uni = collections.Counter()
    bi = collections.Counter()
    prev_count = collections.Counter()
    for p in train:
        ids = ids_of(p, index)
        uni.update(ids[1:])
        for a, b in zip(ids, ids[1:]):
            bi[a, b] += 1
            prev_count[a] += 1
    n = sum(uni.values())

    def p_uni(c):
        return (uni[c] + 1) / (n + size)

    def p_bi(a, b):
        return bi[a, b] / prev_count[a] if prev_count[a] else 0.0

    def nats(poems, lam):
        total, count = 0.0, 0
        for p in poems:
            ids = ids_of(p, index)
            for a, b in zip(ids, ids[1:]):
                q = p_uni(b) if lam is None else lam * p_bi(a, b) + (1 - lam) * p_uni(b)
                total -= math.log(q)
                count += 1
        return total / count

    lam = min((round(0.05 * k, 2) for k in range(1, 20)), key=lambda l: nats(val, l))
    return {"unigram": round(nats(test, None), 4), "bigram": round(nats(test, lam), 4), "bigram_lambda": lam}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--package", type=Path, required=True, help="the unpacked npm package (folder holding dist/)")
    ap.add_argument("--cache", type=Path, default=DEFAULT_CACHE, help="where train/val/test.txt go (outside the repo)")
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args(argv)
    from opencc import OpenCC

    poems, total = read_poems(args.package, OpenCC("t2s").convert)
    splits = {"train": [], "val": [], "test": []}
    for p in poems:
        splits[split_of(p)].append(p)
    args.cache.mkdir(parents=True, exist_ok=True)
    for name, ps in splits.items():
        (args.cache / f"{name}.txt").write_text("".join(p + "\n" for p in ps), encoding="utf-8")

    counts = collections.Counter(c for p in splits["train"] for c in p)
    top = sorted(counts.items(), key=lambda kv: (-kv[1], ord(kv[0])))[:VOCAB_CHARS]
    index = {c: i + len(SPECIALS) for i, (c, _) in enumerate(top)}
    n_train = len(splits["train"])
    special_counts = [0, n_train, n_train, sum(counts.values()) - sum(n for _, n in top)]
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "vocab.tsv").write_text(
        "".join(f"{t}\t{n}\n" for t, n in zip(SPECIALS, special_counts)) + "".join(f"{c}\t{n}\n" for c, n in top),
        encoding="utf-8")

    test = splits["test"]
    shipped = sorted(test, key=lambda p: hashlib.sha256(p.encode("utf-8")).hexdigest())[:TEST_SHIPPED]
    shipped = [p for p in test if p in set(shipped)]  # keep file order
    (args.out / "test_poems.txt").write_text("".join(p + "\n" for p in shipped), encoding="utf-8")

    all_chars = collections.Counter(c for p in poems for c in p)
    n_chars = sum(all_chars.values())
    size = len(SPECIALS) + len(top)
    info = {
        "source": "chinese-poetry 2.0.1 (npm), dist/quantangshi/poet.tang.*.json; MIT, (c) 2016 JackeyGao",
        "conversion": "OpenCC t2s (opencc 1.4.x)",
        "filter": "only CJK and ，。; 4 or 8 lines; every line 5 or every line 7 characters; ，。 alternating",
        "split": "SHA-256 of the text, first 4 bytes mod 100: <90 train, <95 val, else test",
        "tang_poems_read": total,
        "poems": len(poems),
        "characters": n_chars,
        "characters_with_punctuation_note": "counts include ，and 。",
        "distinct_characters": len(all_chars),
        "split_poems": {k: len(v) for k, v in splits.items()},
        "vocab_size": size,
        "vocab_characters": len(top),
        "top_coverage_train": round(sum(n for _, n in top) / sum(counts.values()), 4),
        "top_coverage_all": round(sum(all_chars[c] for c, _ in top) / n_chars, 4),
        "test_shipped": len(shipped),
        "test_shipped_note": f"the {TEST_SHIPPED} test poems with the smallest SHA-256, in corpus order",
        "baselines_nats_per_token_test": baselines(splits["train"], splits["val"], test, index, size),
        "baselines_nats_per_token_test_shipped": baselines(splits["train"], splits["val"], shipped, index, size),
        "max_poem_length": max(len(p) for p in poems),
    }
    (args.out / "corpus.json").write_text(json.dumps(info, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(json.dumps(info, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
