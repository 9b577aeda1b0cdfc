"""Timing helper shared by the benchmark scripts (best of several rounds, counts kept)."""

from __future__ import annotations

import gc
import math
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class Measurement:
    """Best time per call of ``run`` over the rounds, with its deterministic counts.

    ``run`` returns the counts it produced (schedules, steps); they are recorded once and must
    not change between calls (counts before clocks).
    """

    label: str
    run: Callable[[], tuple[int, int]]
    loops: int = 1
    schedules: int = 0
    steps: int = 0
    best: float = math.inf

    def calibrate(self, target: float) -> None:
        """Record the counts and pick how many calls one repetition times."""
        start = time.perf_counter()
        self.schedules, self.steps = self.run()
        once = time.perf_counter() - start
        self.loops = max(1, math.ceil(target / max(once, 1e-9)))

    def repeat(self) -> None:
        """Time ``loops`` calls once; keep the best time per call."""
        gc.collect()
        run = self.run
        start = time.perf_counter()
        for _ in range(self.loops):
            run()
        self.best = min(self.best, (time.perf_counter() - start) / self.loops)
