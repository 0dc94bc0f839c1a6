"""Publishing: the GitHub Actions workflows and the execution cache they rely on.

The workflows cannot run here, so these tests read them: against GitHub's
workflow schema (the copy check-jsonschema ships, so offline), and for what a
schema cannot know: that the site is built with the trained model and
deployed with GitHub's own Pages actions, and that every action is pinned.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from tests.test_binder import BINDER, makefile_model_wheel, pins

ROOT = Path(__file__).resolve().parent.parent
WORKFLOWS = ROOT / ".github" / "workflows"
PUBLISH = WORKFLOWS / "publish.yml"
TESTS = WORKFLOWS / "tests.yml"
CHECK_JSONSCHEMA = Path(sys.executable).with_name("check-jsonschema")
PAGES_ACTIONS = ("actions/configure-pages", "actions/upload-pages-artifact", "actions/deploy-pages")


def workflow(path: Path) -> dict:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["on"] = data.pop(True, data.get("on"))  # YAML 1.1 reads the key `on` as true
    return data


def steps(job: dict) -> list[dict]:
    return job.get("steps", [])


def runs(job: dict) -> str:
    return "\n".join(step.get("run", "") for step in steps(job))


def uses(job: dict) -> list[str]:
    return [step["uses"].split("@")[0] for step in steps(job) if "uses" in step]


def check_schema(*paths: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(CHECK_JSONSCHEMA), "--builtin-schema", "vendor.github-workflows", *map(str, paths)],
                          capture_output=True, text=True, timeout=120)


def test_workflows_match_githubs_schema():
    """If this broke, GitHub would refuse a workflow (a misspelt key, a wrong type) and the book
    would silently stop being published or pull requests stop being tested."""
    files = sorted(WORKFLOWS.glob("*.yml"))
    assert {PUBLISH, TESTS} <= set(files)
    result = check_schema(*files)
    assert result.returncode == 0, result.stdout + result.stderr


def test_schema_check_rejects_a_broken_workflow(tmp_path):
    """If this broke, the schema check above could pass whatever the workflows say."""
    broken = tmp_path / "broken.yml"
    broken.write_text("on: push\njobs:\n  build:\n    runs-on: ubuntu-24.04\n    stepz: []\n", encoding="utf-8")
    assert check_schema(broken).returncode != 0


def test_every_action_is_pinned_to_a_commit():
    """If this broke, a moved tag (or a compromised action) could change what runs with the
    right to publish the site, without any change in this repository."""
    for path in sorted(WORKFLOWS.glob("*.yml")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if re.match(r"\s*(-\s+)?uses:", line):
                assert re.search(r"uses:\s*[\w.-]+/[\w.-]+@[0-9a-f]{40} # v\d+\.\d+\.\d+$", line), \
                    f"{path.name}: not pinned to a full commit with its version: {line.strip()}"


def test_publishing_runs_on_push_to_main_and_builds_with_the_trained_model():
    """If this broke, the published book would not follow main, or would show the untrained
    stand-in's numbers instead of the trained zh_core_web_sm's."""
    wf = workflow(PUBLISH)
    assert wf["on"]["push"]["branches"] == ["main"]
    build = wf["jobs"]["build"]
    commands = runs(build)
    assert "make model" in commands and "make book" in commands
    assert commands.index("make model") < commands.index("make book")
    python = next(s for s in steps(build) if s.get("uses", "").startswith("actions/setup-python@"))
    assert python["with"]["python-version"] == (BINDER / "runtime.txt").read_text(encoding="utf-8").strip()[7:]
    assert python["with"]["cache"] == "pip"


def test_publishing_keeps_the_execution_cache_between_runs():
    """If this broke, every publish would re-execute every notebook from scratch (minutes), or
    restore a cache without the stamp that says which attn_steps made it."""
    build = workflow(PUBLISH)["jobs"]["build"]
    names = [s.get("uses", "").split("@")[0] or s.get("run", "") for s in steps(build)]
    cache = next(s for s in steps(build) if s.get("uses", "").startswith("actions/cache@"))
    assert {"_build/.jupyter_cache", "_build/.attn_steps-stamp"} <= set(cache["with"]["path"].split())
    for part in ("notebooks/", "attn_steps/"):
        assert part in cache["with"]["key"]
    # `make model` drops the stamp, so the cache must be restored after it.
    assert names.index("make model") < names.index("actions/cache") < names.index("make book")


def test_deployment_uses_githubs_pages_actions():
    """If this broke, the built site would not reach GitHub Pages (or would need a token with
    more rights than publishing the pages)."""
    jobs = workflow(PUBLISH)["jobs"]
    assert uses(jobs["build"])[-2:] == list(PAGES_ACTIONS[:2])
    upload = next(s for s in steps(jobs["build"]) if s.get("uses", "").startswith(PAGES_ACTIONS[1]))
    assert upload["with"]["path"] == "_build/html"
    deploy = jobs["deploy"]
    assert deploy["needs"] == "build"
    assert uses(deploy) == [PAGES_ACTIONS[2]]
    assert deploy["permissions"] == {"pages": "write", "id-token": "write"}
    assert deploy["environment"]["name"] == "github-pages"
    assert workflow(PUBLISH)["permissions"] == {"contents": "read"}


def test_pull_requests_run_make_test_through_ci_run():
    """If this broke, a pull request could break the book or its tests without anyone seeing
    it before the merge."""
    wf = workflow(TESTS)
    assert "pull_request" in wf["on"]
    job = wf["jobs"]["test"]
    assert "bash .ci/run" in runs(job)
    assert (ROOT / ".ci" / "run").read_text(encoding="utf-8").strip().endswith("make test")
    # Debian, as root: make test (through .ci/run) installs Debian's chromium and chromium-driver with apt-get.
    assert job["container"].endswith("-bookworm") and "3.11" in job["container"]


def test_make_model_installs_the_segmenter_binder_pins():
    """If this broke, `make model` (and so the published site) would install the model with
    another pkuseg than Binder does, or none, and the model would fail on its first sentence."""
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    deps = re.search(r"^MODEL_DEPS\s*:?=\s*(.+)$", makefile, re.M).group(1).split()
    assert deps == [f"spacy-pkuseg=={pins(BINDER / 'requirements.txt')['spacy-pkuseg']}"]
    assert re.search(r"^model:.*\n\t.*pip install \$\(MODEL_DEPS\) \$\(MODEL_WHEEL\)$", makefile, re.M)
    assert makefile_model_wheel().endswith("zh_core_web_sm-3.8.0-py3-none-any.whl")


@pytest.fixture
def checkout(tmp_path) -> Path:
    """A copy of what the stamp reads, with an execution cache in _build."""
    for part in ("Makefile", "requirements.txt", "attn_steps", "_static"):
        src = ROOT / part
        (shutil.copytree if src.is_dir() else shutil.copy2)(src, tmp_path / part)
    return tmp_path


def make_stamp(folder: Path) -> bool:
    """Runs the stamp rule; True if the execution cache survived it."""
    (folder / "_build" / ".jupyter_cache").mkdir(parents=True, exist_ok=True)
    marker = folder / "_build" / ".jupyter_cache" / "executed"
    marker.touch()
    result = subprocess.run(["make", "--no-print-directory", "_build/.attn_steps-stamp"], cwd=folder,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return marker.exists()


def test_execution_cache_survives_a_fresh_checkout_but_not_a_change(checkout):
    """If this broke, CI would re-execute every notebook on every run although nothing changed
    (a fresh checkout gives every file a new time), or a page would keep the output of an
    attn_steps that has since changed."""
    assert not make_stamp(checkout), "no stamp yet: the cache's origin is unknown, it must go"
    assert make_stamp(checkout), "nothing changed: the cache must stay"
    # As CI: a fresh checkout (every file new), then the stamp restored from the cache (older).
    for path in checkout.rglob("*"):
        os.utime(path)
    hour_ago = time.time() - 3600
    os.utime(checkout / "_build" / ".attn_steps-stamp", (hour_ago, hour_ago))
    assert make_stamp(checkout), "only the file times changed: the cache must stay"
    (checkout / "attn_steps" / "attention.py").write_text("# changed\n", encoding="utf-8")
    assert not make_stamp(checkout), "attn_steps changed: the cache must go"
    assert make_stamp(checkout)
    with (checkout / "requirements.txt").open("a", encoding="utf-8") as pins_file:
        pins_file.write("# changed\n")
    assert not make_stamp(checkout), "the pins changed: the cache must go"
