"""The Binder configuration and the pinned requirements, checked statically.

Binder (repo2docker) cannot be reached from CI, so these tests read the files
it would read: binder/runtime.txt, apt.txt, requirements.txt and postBuild.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from packaging.requirements import Requirement
from packaging.version import Version

from attn_steps.embeddings import MODEL_WHEEL

ROOT = Path(__file__).resolve().parent.parent
BINDER = ROOT / "binder"

# What zh_core_web_sm 3.8.0 declares in its meta.json (spaCy release page).
MODEL_NEEDS_SPACY = ">=3.8.0,<3.9.0"
MODEL_NEEDS_PKUSEG = ">=1.0.0,<2.0.0"
PLACEHOLDER = "zh-core-web-sm"  # the package-index name: a 999.9.9 placeholder, not the model


def requirement_lines(path: Path) -> list[str]:
    """Non-empty lines of a requirements file, comments stripped."""
    # As pip reads them: "#" starts a comment at the line start or after whitespace.
    lines = (re.sub(r"(^|\s)#.*", "", raw).strip() for raw in path.read_text(encoding="utf-8").splitlines())
    return [line for line in lines if line]


def pins(path: Path) -> dict[str, Version]:
    """name -> pinned version for every `name==version` line of a requirements file."""
    found = {}
    for line in requirement_lines(path):
        if "==" in line:
            req = Requirement(line)
            found[req.name.lower().replace("_", "-")] = Version(str(req.specifier).removeprefix("=="))
    return found


def makefile_model_wheel() -> str:
    match = re.search(r"^MODEL_WHEEL\s*:?=\s*(\S+)\s*$", (ROOT / "Makefile").read_text(encoding="utf-8"), re.M)
    assert match, "Makefile defines no MODEL_WHEEL"
    return match.group(1)


def test_runtime_is_python_3_11():
    """If this broke, Binder would start a different Python than the one the pins were made for,
    and the session could fail to install or behave differently from the site."""
    assert (BINDER / "runtime.txt").read_text(encoding="utf-8").strip() == "python-3.11"


def test_apt_installs_a_cjk_font():
    """If this broke, figures on Binder would fall back to the shipped font subset, so rare
    characters outside GB2312 would show as empty boxes."""
    packages = [line.partition("#")[0].strip() for line in (BINDER / "apt.txt").read_text(encoding="utf-8").splitlines()]
    assert "fonts-noto-cjk" in packages


def test_binder_requirements_reuse_the_book_pins():
    """If this broke, Binder would install other versions than the site was built with,
    and a notebook could fail or show different numbers there."""
    assert "-r ../requirements.txt" in requirement_lines(BINDER / "requirements.txt")


def test_binder_installs_the_trained_model_from_its_release_wheel():
    """If this broke, Binder users would get the untrained stand-in (or a broken install)
    instead of the trained zh_core_web_sm that the book promises there."""
    lines = requirement_lines(BINDER / "requirements.txt")
    model_lines = [line for line in lines if "zh_core_web_sm" in line or "zh-core-web-sm" in line.lower()]
    assert model_lines == [f"zh_core_web_sm @ {MODEL_WHEEL}"]
    assert "zh_core_web_sm-3.8.0/zh_core_web_sm-3.8.0-py3-none-any.whl" in MODEL_WHEEL
    assert MODEL_WHEEL.startswith("https://github.com/explosion/spacy-models/releases/download/")


def test_every_install_path_uses_the_same_model_wheel():
    """If this broke, `make model`, Binder and the install hint on the pages would install
    different model versions, and the numbers a reader sees would depend on how they got it."""
    assert makefile_model_wheel() == MODEL_WHEEL
    texts = [ROOT / "README.md", BINDER / "requirements.txt", *sorted((ROOT / "book").glob("*.md"))]
    for path in texts:
        for url in re.findall(r"https://\S*zh_core_web_sm\S*?\.whl", path.read_text(encoding="utf-8")):
            assert url == MODEL_WHEEL, f"{path.relative_to(ROOT)} names another model wheel: {url}"


def test_binder_never_asks_for_the_placeholder_package():
    """If this broke, pip on Binder would install the 999.9.9 placeholder from the package
    index, which is not the model, and spacy.load would fail."""
    text = (BINDER / "requirements.txt").read_text(encoding="utf-8").lower()
    assert PLACEHOLDER not in text
    assert "zh_core_web_sm==" not in text.replace(" ", "")


def test_binder_extra_requirements_are_pinned():
    """If this broke, a Binder session built next month could pull a newer release than
    the one checked here and fail to start."""
    for line in requirement_lines(BINDER / "requirements.txt"):
        if line.startswith("-r ") or line.startswith("zh_core_web_sm @ "):
            continue
        assert re.fullmatch(r"[A-Za-z0-9._-]+==[A-Za-z0-9.+!-]+", line), f"not pinned with ==: {line}"


def test_model_dependencies_are_satisfied_by_the_pins():
    """If this broke, the trained model on Binder would refuse to load (spaCy version out of
    its range) or fail at the first sentence (no pkuseg segmenter)."""
    book = pins(ROOT / "requirements.txt")
    binder = pins(BINDER / "requirements.txt")
    assert book["spacy"] in Requirement(f"spacy{MODEL_NEEDS_SPACY}").specifier
    assert "spacy-pkuseg" in binder, "zh_core_web_sm segments with pkuseg: binder/requirements.txt must pin spacy-pkuseg"
    assert binder["spacy-pkuseg"] in Requirement(f"spacy-pkuseg{MODEL_NEEDS_PKUSEG}").specifier
    assert not set(book) & set(binder), "binder/requirements.txt pins again a package of requirements.txt"


def test_post_build_installs_the_package():
    """If this broke, `import attn_steps` would fail in the first cell of every notebook on Binder."""
    post_build = BINDER / "postBuild"
    assert os.access(post_build, os.X_OK), "binder/postBuild must be executable"
    text = post_build.read_text(encoding="utf-8")
    assert text.startswith("#!/usr/bin/env bash") or text.startswith("#!/bin/bash")
    assert "set -euo pipefail" in text
    assert re.search(r"^pip install --no-deps -e \.\s*$", text, re.M)


def test_book_requirements_are_exact_pins_without_the_model():
    """If this broke, two readers (or CI and Binder) could build the book with different
    library versions, or `pip install -r requirements.txt` would fail offline on a URL."""
    for line in requirement_lines(ROOT / "requirements.txt"):
        assert re.fullmatch(r"[A-Za-z0-9._-]+==[A-Za-z0-9.+!-]+", line), f"not pinned with ==: {line}"
        assert "://" not in line
        assert "zh_core_web_sm" not in line and PLACEHOLDER not in line.lower()


def test_test_requirements_are_exact_pins():
    """If this broke, `make test` could run a different pytest, nbval or torch than CI
    and pass or fail for reasons unrelated to the book."""
    for line in requirement_lines(ROOT / "requirements-test.txt") + requirement_lines(ROOT / "requirements-torch.txt"):
        if line == "-r requirements.txt":
            continue
        assert re.fullmatch(r"[A-Za-z0-9._-]+==[A-Za-z0-9.+!-]+", line), f"not pinned with ==: {line}"
