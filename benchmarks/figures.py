"""What every benchmark returns and how it times: `Figure` (one line of `make bench`'s table) and the timers.

Its own module so that bench.py (the driver) and the figure modules it calls (bench_poet.py)
both import from here and never from each other.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass


@dataclass
class Figure:
    """One line of the final table: what was measured, its value and its target."""

    name: str
    value: float
    unit: str
    target: str = ""  # e.g. "≤ 1.15"; empty for figures printed for orientation only

    def holds(self) -> str:
        if not self.target:
            return ""
        op, bound = self.target.split()
        ok = {"≤": self.value <= float(bound), "<": self.value < float(bound), "≥": self.value >= float(bound)}[op]
        return "yes" if ok else "NO"

    def line(self) -> str:
        value = f"{self.value:,.3g}" if abs(self.value) < 1000 else f"{self.value:,.0f}"
        return f"{self.name:<60} {value:>10} {self.unit:<6} {self.target:>8} {self.holds():>5}"


def best_of(fn, repeat: int = 5) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def interleaved(fns: dict, repeat: int = 7) -> dict[str, float]:
    """Best time of each function, run in turns so that load on the machine hits them alike."""
    times = {name: math.inf for name in fns}
    for _ in range(repeat):
        for name, fn in fns.items():
            t = time.perf_counter()
            fn()
            times[name] = min(times[name], time.perf_counter() - t)
    return times
