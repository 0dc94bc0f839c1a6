"""The glossary's terms, and every page using them the same way.

If this broke, a reader would meet a term in a chapter that the glossary does not
explain (残差连接, MLP, 奈特, top-k, 温度, 角色), or the same thing under two names
from page to page (注意力得分 here, 注意力分数 there), or the mix-up readers of other
books make most: calling softmax's output 分数 or its input 权重.
"""

from __future__ import annotations

import json
import re
from pathlib import Path


ROOT = Path(__file__).resolve().parent.parent
GLOSSARY = ROOT / "book" / "glossary.md"

# Each glossary term (as its entry starts) -> what a page must not write instead: other names for it,
# or, for 分数 and 权重, the one used for the other side of softmax.
VARIANTS = {
    "注意力分数": ["注意力得分", "注意力分值", "注意力打分", "softmax 之前的权重", "softmax 前的权重", "softmax之前的权重"],
    "注意力权重": ["注意力系数", "注意力概率", "注意力分布", "softmax 之后的分数", "softmax 后的分数", "softmax之后的分数"],
    "温度": ["温度系数", "温度参数"],
    "残差连接": ["残差链接", "残差连结", "跳跃连接", "跳连", "捷径连接"],
    "MLP": ["多层感知机", "多层感知器", "前馈网络", "前馈层", "FFN"],
    "奈特": ["纳特", "奈特斯"],
    "top-k": ["Top-k", "Top-K", "top-K", "top k", "topk", "前 k 个字"],
    # 角色 is a head's measured role (chapter 9); Q, K and V are no 角色 of a word.
    "角色": ["三个角色", "扮演三个角色"],
}
NEW_TERMS = ["残差连接", "MLP", "奈特", "top-k", "温度", "角色", "注意力分数", "注意力权重"]
# Variants on pages another branch owns, listed so that they are fixed there; a listed one that
# is gone fails too, so the list never outlives what it excuses.
ELSEWHERE: set = set()


def glossary_terms() -> list[str]:
    """The terms of the glossary's {glossary} blocks: each entry's first line, without its English in brackets."""
    text = GLOSSARY.read_text(encoding="utf-8")
    terms = []
    for block in re.findall(r"```\{glossary\}\n(.*?)```", text, flags=re.S):
        for line in block.splitlines():
            if line and not line.startswith(" "):
                terms += [re.sub(r"\s*\(.*?\)\s*$", "", part).strip() for part in line.split("、")]
    return terms


def pages() -> dict[str, str]:
    """Every page's prose and code (chapters and book pages but the glossary itself), by short name."""
    out = {}
    for nb in sorted((ROOT / "notebooks").glob("*.ipynb")):
        cells = json.loads(nb.read_text(encoding="utf-8"))["cells"]
        out[nb.stem] = "\n".join("".join(c["source"]) for c in cells)
    for md in sorted((ROOT / "book").glob("*.md")):
        if md != GLOSSARY:
            out[md.stem] = md.read_text(encoding="utf-8")
    return out


def variants_used(texts: dict[str, str]) -> set[tuple[str, str, str]]:
    """(page, term, variant) for every variant of a glossary term that a page writes."""
    return {(name, term, v) for name, text in texts.items() for term, vs in VARIANTS.items() for v in vs if v in text}


def test_the_glossary_explains_the_terms_chapters_8_and_9_use_and_scores_vs_weights():
    terms = glossary_terms()
    assert len(terms) == len(set(terms)), "a term is explained twice"
    assert [t for t in NEW_TERMS if t not in terms] == []
    assert [t for t in VARIANTS if t not in terms] == []
    text = GLOSSARY.read_text(encoding="utf-8")
    score, weight = (text[text.index(f"\n{t} ("):].split("\n\n")[0] for t in ("注意力分数", "注意力权重"))
    assert "softmax 之前" in score and "softmax 之后" in weight  # the distinction, in each entry


def test_the_variant_scan_finds_a_variant_and_passes_the_terms():
    """The scan itself: it must catch a variant and leave the glossary's own word alone."""
    found = variants_used({"甲": "softmax 之后的分数每行和为 1", "乙": "注意力分数，softmax 之后是注意力权重；top-k"})
    assert found == {("甲", "注意力权重", "softmax 之后的分数")}


def test_every_page_uses_the_glossarys_terms_the_same_way():
    used = variants_used(pages())
    print("\nvariants on pages owned elsewhere (to fix there):", sorted(used & ELSEWHERE))
    assert sorted(used - ELSEWHERE) == [], "use the glossary's term instead"
    assert sorted(ELSEWHERE - used) == [], "fixed: drop it from ELSEWHERE"
