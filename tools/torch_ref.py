"""torch for the tests and the benchmark only: the folder make installs it into, put on sys.path.

requirements-torch.txt says why torch is not in .venv. Appended, not prepended: a package both hold
comes from .venv. Without the folder (tests run outside make, in an environment with its own torch)
nothing changes.
"""

from __future__ import annotations

import sys
from pathlib import Path

FOLDER = Path(__file__).resolve().parent.parent / ".venv" / "torch-ref"


def on_path() -> None:
    if FOLDER.is_dir() and str(FOLDER) not in sys.path:
        sys.path.append(str(FOLDER))
