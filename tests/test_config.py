"""The book's build configuration: what keeps a broken page off the site."""

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
CONFIG = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))


def test_a_notebook_that_errors_or_writes_to_stderr_fails_the_build():
    """Otherwise a traceback or loader chatter could be published on a teaching page."""
    execute = CONFIG["execute"]
    assert execute["allow_errors"] is False
    assert execute["raise_on_error"] is True
    assert execute["stderr_output"] == "error"


def test_unchanged_notebooks_come_from_the_cache():
    """An unchanged rebuild takes seconds instead of re-running every chapter."""
    assert CONFIG["execute"]["execute_notebooks"] == "cache"


def test_pages_offer_binder_colab_repository_and_issues():
    """Readers reach a live session or the issue tracker from every chapter page."""
    assert CONFIG["launch_buttons"]["binderhub_url"] == "https://mybinder.org"
    assert CONFIG["launch_buttons"]["colab_url"] == "https://colab.research.google.com"
    assert CONFIG["repository"]["url"].startswith("https://github.com/")
    assert CONFIG["html"]["use_repository_button"] and CONFIG["html"]["use_issues_button"]


def test_makefile_builds_with_warnings_as_errors():
    """Sphinx warnings (a broken link, a missing page) fail `make book` and so CI."""
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert "jupyter-book build . -W --keep-going" in makefile
    assert (ROOT / ".ci" / "run").read_text(encoding="utf-8").strip().endswith("make test")
