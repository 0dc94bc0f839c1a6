"""tools/timed.py, which times each part of make test: the line it writes and the status it passes on."""

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TIMED = ROOT / "tools" / "timed.py"
LINE = re.compile(r"^(?P<label>.+): (?P<wall>\d+) s \(CPU (?P<cpu>\d+) s\)(?P<failed>, FAILED)?$")


def timed(tmp_path, *command):
    times = tmp_path / "times.txt"
    done = subprocess.run([sys.executable, str(TIMED), str(times), "  make part", "--", *command])
    return done.returncode, times.read_text(encoding="utf-8").splitlines()


def test_a_part_that_works_for_a_second_is_noted_with_its_cpu_time(tmp_path):
    busy = "import time; t = time.process_time()\nwhile time.process_time() - t < 1.2: pass"
    status, lines = timed(tmp_path, sys.executable, "-c", busy)
    assert status == 0 and len(lines) == 1
    got = LINE.match(lines[0])
    assert got and got["label"] == "  make part" and not got["failed"], lines
    assert int(got["cpu"]) >= 1 and int(got["wall"]) >= 1  # the child's CPU time, not the timer's own


def test_a_failing_part_keeps_its_status_and_is_marked_failed(tmp_path):
    status, lines = timed(tmp_path, sys.executable, "-c", "raise SystemExit(3)")
    assert status == 3
    assert LINE.match(lines[0])["failed"] == ", FAILED", lines


def test_lines_are_added_not_replaced(tmp_path):
    timed(tmp_path, "true")
    _, lines = timed(tmp_path, "true")
    assert len(lines) == 2


def test_a_call_without_a_command_says_how_to_call_it(tmp_path):
    done = subprocess.run([sys.executable, str(TIMED), str(tmp_path / "t.txt"), "label"], capture_output=True, text=True)
    assert done.returncode == 2 and "python tools/timed.py TIMES LABEL -- COMMAND" in done.stderr


def test_a_command_that_does_not_exist_fails_with_a_line_not_a_traceback(tmp_path):
    times = tmp_path / "times.txt"
    done = subprocess.run([sys.executable, str(TIMED), str(times), "part", "--", str(tmp_path / "no-such-program")],
                          capture_output=True, text=True)
    assert done.returncode == 127 and "cannot run" in done.stderr and "Traceback" not in done.stderr
    assert LINE.match(times.read_text(encoding="utf-8").strip())["failed"]
