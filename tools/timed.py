"""Run one part of `make test` and note its time: wall clock and the CPU its processes used.

    python tools/timed.py TIMES LABEL -- COMMAND...

Appends "LABEL: W s (CPU C s)" to the file TIMES and exits with the command's status (", FAILED"
is added when it failed). CPU is user + system time of the command and every process it waited
for (pytest, its kernels, Chromium), so that CPU/W says how busy the part kept the machine's cores:
a part far below 1 spends its time waiting. Standard library only: it runs before any venv exists.
"""

import resource
import subprocess
import sys
import time


def main(argv: list[str]) -> int:
    if len(argv) < 4 or argv[2] != "--":
        print(__doc__, file=sys.stderr)
        return 2
    times, label, command = argv[0], argv[1], argv[3:]
    start = time.monotonic()
    try:
        status = subprocess.call(command, close_fds=False)  # a make below keeps the jobserver of the make above
    except OSError as error:
        print(f"{label.strip()}: cannot run {command[0]!r}: {error.strerror}", file=sys.stderr)
        status = 127
    wall = time.monotonic() - start
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    line = f"{label}: {wall:.0f} s (CPU {used.ru_utime + used.ru_stime:.0f} s){'' if status == 0 else ', FAILED'}"
    with open(times, "a", encoding="utf-8") as out:
        print(line, file=out)
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
