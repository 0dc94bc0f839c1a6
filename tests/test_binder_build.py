"""Binder's environment built as repo2docker builds it from binder/, then started: JupyterLab and a kernel.

repo2docker, for a repository with binder/: Python from runtime.txt, `pip install -r
binder/requirements.txt`, then binder/postBuild from the repository's root; Binder's launch
button then opens JupyterLab (_config.yml: notebook_interface jupyterlab). This test does the
same in a fresh virtual environment on a copy of the repository's files, except two steps that
need more than the package index: the trained model's wheel (spaCy's release page) is left out
of the install (tests/test_binder.py checks its line), and apt.txt's font is not installed here.
Then it starts that environment's JupyterLab on 127.0.0.1 and runs `import attn_steps` in a
kernel it starts. If this fails, a Binder session would not start, or its first cell would fail.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tools import lab

pytestmark = [pytest.mark.lab]

ROOT = Path(__file__).resolve().parent.parent
OFFLINE = "binder-offline-requirements.txt"


def runtime_python() -> str:
    version = (ROOT / "binder" / "runtime.txt").read_text(encoding="utf-8").strip().removeprefix("python-")
    found = shutil.which(f"python{version}")
    if found is None and f"{sys.version_info.major}.{sys.version_info.minor}" == version:
        found = sys.executable
    assert found, f"binder/runtime.txt asks for Python {version}, which this machine lacks"
    return found


def repository_copy(target: Path) -> Path:
    """The repository's files (tracked, and new ones not ignored), as repo2docker sees a clone."""
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=ROOT,
                            check=True, capture_output=True).stdout.decode().split("\0")
    for name in filter(None, listed):
        source = ROOT / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    return target


def offline_requirements(repo: Path) -> list[str]:
    """binder/requirements.txt without the lines that need more than the package index; the lines left out."""
    lines = (repo / "binder" / "requirements.txt").read_text(encoding="utf-8").splitlines()
    kept = [line for line in lines if "://" not in line]
    (repo / "binder" / OFFLINE).write_text("\n".join(kept) + "\n", encoding="utf-8")
    return [line for line in lines if "://" in line]


def test_binders_environment_installs_and_starts_jupyterlab_with_a_kernel_that_imports_attn_steps(tmp_path):
    repo = repository_copy(tmp_path / "repo")
    left_out = offline_requirements(repo)
    assert [line.split(" @ ")[0] for line in left_out] == ["zh_core_web_sm"], left_out
    env = tmp_path / "env"
    subprocess.run([runtime_python(), "-m", "venv", str(env)], check=True)
    path = {**os.environ, "PATH": f"{env / 'bin'}{os.pathsep}{os.environ['PATH']}", "VIRTUAL_ENV": str(env)}
    path.pop("PYTHONPATH", None)
    # --no-compile: what is checked is what installs and starts; compiling every package's bytecode took a fifth of the test.
    pip = subprocess.run([str(env / "bin" / "pip"), "install", "--quiet", "--no-compile", "-r", f"binder/{OFFLINE}"], cwd=repo, env=path,
                         capture_output=True, text=True)
    assert pip.returncode == 0, pip.stderr[-3000:]
    post = subprocess.run([str(repo / "binder" / "postBuild")], cwd=repo, env=path, capture_output=True, text=True)
    assert post.returncode == 0, post.stderr[-3000:]
    versions = subprocess.run([str(env / "bin" / "jupyter"), "lab", "--version"], env=path, capture_output=True, text=True)
    assert versions.returncode == 0 and versions.stdout.strip() == lab_pin(), versions
    with lab.server(repo / "notebooks", jupyter=env / "bin" / "jupyter", copy=False) as server:
        printed = lab.run_in_kernel(server, "import attn_steps, anywidget, sys\n"
                                            "print(sys.prefix)\nprint(attn_steps.__file__)\nprint(anywidget.__version__)")
    prefix, package, anywidget_version = printed.split()
    print(f"\nBinder's environment: JupyterLab {versions.stdout.strip()}, a kernel in {prefix} imports {package}")
    assert Path(prefix) == env and Path(package).is_relative_to(repo)  # postBuild's editable install of the copy
    assert anywidget_version == pin("anywidget")


def pin(name: str) -> str:
    for line in (ROOT / "requirements.txt").read_text(encoding="utf-8").splitlines():
        if line.lower().startswith(f"{name}=="):
            return line.split("==", 1)[1].strip()
    raise AssertionError(f"requirements.txt pins no {name}")


def lab_pin() -> str:
    return pin("jupyterlab")
