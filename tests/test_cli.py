"""python -m attn_steps: a figure for good input, one clear line for bad input."""

import subprocess
import sys

import pytest

from .conftest import TEXT1


def run(*args, cwd):
    return subprocess.run(
        [sys.executable, "-m", "attn_steps", *args], capture_output=True, text=True, cwd=cwd, timeout=180
    )


@pytest.mark.parametrize("name,magic", [("steps.png", b"\x89PNG"), ("steps.svg", b"<?xml")])
def test_writes_the_step_through_figure(tmp_path, name, magic):
    proc = run(TEXT1, "--dim", "10", "--dk", "6", "--seed", "0", "-o", name, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    assert (tmp_path / name).read_bytes().startswith(magic)


def test_the_figure_file_carries_its_description(tmp_path):
    """Whoever puts the CLI's PNG on a page finds its alt text inside it (what the book's site shows as alt)."""
    from PIL import Image

    proc = run(TEXT1, "--dim", "10", "--dk", "6", "--seed", "0", "-o", "steps.png", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    with Image.open(tmp_path / "steps.png") as im:
        description = im.info["Description"]
    assert description.startswith("自注意力一步一步的 8 幅热力图") and f"句子「{TEXT1}」" in description
    assert len(description.splitlines()) == 9  # the alt, then one line per stage


def test_causal_adds_the_masked_stage(tmp_path):
    """The figure of a decoder's attention: the masked panel is there (9 stages, not 8)."""
    proc = run(TEXT1, "--causal", "-o", "steps.svg", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "Q·Kᵀ/√d_k + M" in (tmp_path / "steps.svg").read_text(encoding="utf-8")


def test_help_explains_every_option(tmp_path):
    proc = run("--help", cwd=tmp_path)
    assert proc.returncode == 0
    for option in ("--dim", "--dk", "--seed", "--no-scale", "--causal", "-o"):
        assert option in proc.stdout


@pytest.mark.parametrize(
    "args,message",
    [
        (["", "-o", "x.png"], "empty"),
        (["   ", "-o", "x.png"], "empty"),
        ([TEXT1, "--dim", "0", "-o", "x.png"], "--dim"),
        ([TEXT1, "--dim", "500", "-o", "x.png"], "dim"),
        ([TEXT1, "--dk", "0", "-o", "x.png"], "--dk"),
        ([TEXT1, "--dim", "ten", "-o", "x.png"], "whole number"),
        ([TEXT1, "--seed", "-4", "-o", "x.png"], "seed"),
        ([TEXT1, "-o", "x.jpg"], ".png or .svg"),
        ([TEXT1, "-o", "no/such/folder/x.png"], "does not exist"),
        ([], "text"),
    ],
)
def test_bad_input_exits_nonzero_with_one_line_and_no_file(tmp_path, args, message):
    proc = run(*args, cwd=tmp_path)
    assert proc.returncode != 0
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert message in lines[0] and "Traceback" not in proc.stderr
    assert list(tmp_path.iterdir()) == []
