"""Build a test double of the trained zh_core_web_sm 3.8.0, offline, as an installable package.

    python tests/model_double/make_double.py OUT      # OUT/zh_core_web_sm-3.8.0/ (a package with setup.py)

The real model is published only on spaCy's release page, which machines here
cannot reach, so the book's published path (the Pages workflow installs the
real model) is exercised with this double: a spaCy Chinese pipeline named
core_web_sm 3.8.0 whose 96-wide tok2vec fills doc.tensor, with a tagger and
an NER listening to it, like the real one. It differs from the offline
stand-in on purpose, so that nothing the book checks can pass by the two
being the same: a different random initialisation (seed 7), and jieba with
extra dictionary words (see double_words.py) so that text2 segments
相比 / 苹果 / 我 / 更加喜欢 / 国产的 / 华为. Its vectors carry no meaning either.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
SEED = 7
TAGS = ("PN", "VV", "DEG", "NN", "VC", "CC", "AD", "P", "NR", "PU")
ENTS = ("ORG", "GPE", "PERSON")


def build_pipeline():
    import spacy
    from spacy.training import Example

    sys.path.insert(0, str(HERE))
    import double_words  # noqa: F401  (the extra words, as the installed package adds them)

    nlp = spacy.blank("zh", config={"nlp": {"tokenizer": {"segmenter": "jieba"}}})
    nlp.add_pipe("tok2vec")  # 96 wide by default, as in zh_core_web_sm
    listener = {"@architectures": "spacy.Tok2VecListener.v1", "width": 96, "upstream": "tok2vec"}
    tagger = nlp.add_pipe("tagger", config={"model": {"@architectures": "spacy.Tagger.v2", "tok2vec": listener}})
    ner = nlp.add_pipe("ner", config={"model": {"@architectures": "spacy.TransitionBasedParser.v2",
                                                 "state_type": "ner", "extra_state_tokens": False,
                                                 "hidden_width": 64, "maxout_pieces": 2, "use_upper": True,
                                                 "tok2vec": listener}})
    for tag in TAGS:
        tagger.add_label(tag)
    for ent in ENTS:
        ner.add_label(ent)
    spacy.util.fix_random_seed(SEED)
    doc = nlp.make_doc("苹果")
    nlp.initialize(lambda: [Example.from_dict(doc, {"tags": ["NN"]})])
    nlp.meta.update(name="core_web_sm", version="3.8.0", lang="zh",
                    description="TEST DOUBLE of zh_core_web_sm for the book's tests: untrained, not the model")
    return nlp


def main(out: str) -> int:
    out = Path(out)
    with tempfile.TemporaryDirectory() as tmp:
        model_dir = Path(tmp) / "model"
        build_pipeline().to_disk(model_dir)
        if out.exists():
            shutil.rmtree(out)
        out.mkdir(parents=True)
        subprocess.run([sys.executable, "-m", "spacy", "package", str(model_dir), str(out),
                        "--name", "core_web_sm", "--version", "3.8.0",
                        "--code", str(HERE / "double_words.py"), "--build", "none", "--force"], check=True)
    print(out / "zh_core_web_sm-3.8.0")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
