"""The book builds in environments other than ours: here, one with setuptools 80.

Binder's Python 3.11 image and many user virtualenvs have setuptools 80.x,
whose pkg_resources warns on import ("pkg_resources is deprecated ..."), and
jieba imports pkg_resources. `_config.yml` makes anything on stderr a build
error, so such a warning would stop `make book` there.

`make test` installs setuptools 80.9.0 into its own folder inside the venv
(.venv/setuptools-80, outside the venv's site-packages); these tests put that
folder first on PYTHONPATH, so the build and its kernel import that
setuptools, as they would on Binder.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import nbformat
import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
SETUPTOOLS_80 = Path(sys.prefix) / "setuptools-80"
SETUPTOOLS_VERSION = "80.9.0"
JUPYTER_BOOK = Path(sys.executable).with_name("jupyter-book")


@pytest.fixture(scope="module")
def env_with_setuptools_80() -> dict[str, str]:
    if not (SETUPTOOLS_80 / "pkg_resources").is_dir():
        pytest.fail(f"no setuptools in {SETUPTOOLS_80}: `make test` installs it there "
                    f"(pip install --no-deps --target {SETUPTOOLS_80} setuptools=={SETUPTOOLS_VERSION})")
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(SETUPTOOLS_80), str(ROOT), env.get("PYTHONPATH")]))
    env["PYTHONWARNINGS"] = ""  # the build must pass under Python's default warning filters
    return env


def test_that_setuptools_warns_on_pkg_resources(env_with_setuptools_80):
    """If this broke, the build test below would prove nothing: it must run with a setuptools
    whose pkg_resources really does warn, as setuptools 80 does on Binder."""
    probe = textwrap.dedent("""
        import importlib.metadata, json, warnings
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            import pkg_resources
        print(json.dumps({"version": importlib.metadata.version("setuptools"),
                          "file": pkg_resources.__file__,
                          "warnings": [str(w.message) for w in caught]}))
    """)
    result = subprocess.run([sys.executable, "-c", probe], env=env_with_setuptools_80,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.splitlines()[-1])
    assert report["version"] == SETUPTOOLS_VERSION
    assert Path(report["file"]).is_relative_to(SETUPTOOLS_80)
    assert any("pkg_resources is deprecated" in w for w in report["warnings"])


def small_book(folder: Path) -> None:
    """A one-chapter book with the real book's execution settings, exercising the embedding pipeline."""
    folder.mkdir()
    (folder / "_config.yml").write_text(textwrap.dedent("""
        title: setuptools 80
        only_build_toc_files: true
        execute:
          execute_notebooks: force
          allow_errors: false
          raise_on_error: true
          stderr_output: error
    """), encoding="utf-8")
    (folder / "_toc.yml").write_text("format: jb-book\nroot: chapter\n", encoding="utf-8")
    cells = [
        nbformat.v4.new_markdown_cell("# setuptools 80"),
        # Proves the kernel runs with setuptools 80, without importing pkg_resources itself.
        nbformat.v4.new_code_cell(textwrap.dedent(f"""
            import importlib.metadata, importlib.util
            assert importlib.metadata.version("setuptools") == {SETUPTOOLS_VERSION!r}
            assert importlib.util.find_spec("pkg_resources").origin.startswith({str(SETUPTOOLS_80)!r})
        """)),
        nbformat.v4.new_code_cell(textwrap.dedent("""
            import attn_steps as ats
            X = ats.embed("我喜欢的水果是橙子和苹果")
            s = ats.self_attention(X, ats.init_weights(d_model=10, d_k=6, seed=0))
            ats.plot_steps(s);
        """)),
    ]
    nbformat.write(nbformat.v4.new_notebook(cells=cells), folder / "chapter.ipynb")


def test_book_builds_with_setuptools_80(tmp_path, env_with_setuptools_80):
    """If this broke, `make book` would fail on Binder and in user environments with setuptools 80
    (jieba's import of pkg_resources warns on stderr, which the book treats as an error), or a
    page would show that warning to readers."""
    book = tmp_path / "book"
    small_book(book)
    result = subprocess.run([str(JUPYTER_BOOK), "build", str(book), "-W", "--keep-going"],
                            env=env_with_setuptools_80, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    page = (book / "_build" / "html" / "chapter.html").read_text(encoding="utf-8")
    assert "pkg_resources is deprecated" not in page
    assert "output stderr" not in page


FAKE_TRAINED_MODEL = '''
import spacy


def load(**overrides):
    # Like the trained pipeline, it segments without jieba (the real one uses pkuseg).
    nlp = spacy.blank("zh", config={"nlp": {"tokenizer": {"segmenter": "char"}}})
    nlp.add_pipe("tok2vec")
    nlp.initialize()
    return nlp
'''

TRAINED_PATH_CHECK = '''
import json, sys
import attn_steps as ats
X = ats.embed("我喜欢的水果是橙子和苹果", model="zh_core_web_sm")
print(json.dumps({"jieba_imported": "jieba" in sys.modules, "source": X.attrs["source"]}))
'''


def test_trained_model_path_does_not_import_jieba(tmp_path, env_with_setuptools_80):
    """If this broke, readers with the trained model (Binder, the published site) would import
    jieba for nothing, and with it the pkg_resources warning it brings under setuptools 80."""
    pkg = tmp_path / "zh_core_web_sm"
    pkg.mkdir()
    (pkg / "__init__.py").write_text(FAKE_TRAINED_MODEL, encoding="utf-8")
    dist = tmp_path / "zh_core_web_sm-3.8.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: zh_core_web_sm\nVersion: 3.8.0\n", encoding="utf-8")
    env = dict(env_with_setuptools_80)
    env["PYTHONPATH"] = os.pathsep.join([str(tmp_path), env["PYTHONPATH"]])
    result = subprocess.run([sys.executable, "-c", TRAINED_PATH_CHECK], env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    report = json.loads(result.stdout.splitlines()[-1])
    assert report["source"].startswith("zh_core_web_sm 3.8.0")
    assert report["jieba_imported"] is False


def test_the_books_environment_has_no_torch_for_spacy_to_load():
    """If this broke, spaCy's thinc would import torch in every kernel, CLI run and notebook of the build
    (1.4 s each), and the build under make test would not be a reader's: torch belongs in .venv/torch-ref
    (requirements-torch.txt), which only pytest and the bench put on their path."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    check = "import sys, attn_steps as ats; ats.embed('我喜欢苹果'); print('torch' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", check], env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[-1] == "False", "torch is importable from .venv: install it into .venv/torch-ref instead"
