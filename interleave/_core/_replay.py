"""Replaying a schedule: the chooser that follows a recorded schedule ID step by step."""

from __future__ import annotations

from ..errors import ScheduleDivergence
from ._fingerprint import StepVerifier, describe_code
from ._schedule import Schedule
from ._threads import SimThread
from ._views import ExecutionView, StepView

__all__ = ["ScheduleChooser"]


class ScheduleChooser:
    """Follows a recorded schedule prefix, then the default policy (used by replay).

    When the ID recorded operation codes, every step performed so far is checked against them
    before the next choice, so a replay that runs other operations stops at the first one.
    """

    def __init__(self, schedule: Schedule) -> None:
        self.schedule = schedule
        codes = schedule.codes
        self._verifier = StepVerifier(codes) if codes is not None else None

    def choose(self, runtime: StepView, enabled: list[SimThread]) -> SimThread:
        index = runtime.step_count
        if self._verifier is not None:
            self._verifier.verify(runtime, index)
        choices = self.schedule.choices
        if index >= self.schedule.steps:
            raise ScheduleDivergence(
                f"the recorded execution ended after {self.schedule.steps} steps, but here "
                f"threads {_names(enabled)} can still run at step {index}: the scenario "
                "changed since the ID was recorded, or it is not deterministic"
            )
        if index < len(choices):
            tid = choices[index]
            for thread in enabled:
                if thread.tid == tid:
                    return thread
            expected = runtime.threads[tid].name if tid < len(runtime.threads) else f"thread #{tid}"
            raise ScheduleDivergence(
                f"replay diverged at step {index}: the schedule says {expected!r} runs next, "
                f"but only {_names(enabled)} can run. The scenario changed since the ID was "
                "recorded, or it is not deterministic (time, randomness, hash order or state "
                "kept between executions)"
            )
        return runtime.default_choice(enabled)

    def check_complete(self, runtime: ExecutionView) -> None:
        if self._verifier is not None:
            self._verifier.verify(runtime, len(runtime.ops))
        steps = len(runtime.choices)
        if steps != self.schedule.steps:
            codes = self.schedule.codes
            missing = (
                f" (recorded step {steps} was {describe_code(codes[steps])})"
                if codes is not None and steps < len(codes)
                else ""
            )
            raise ScheduleDivergence(
                f"the recorded execution had {self.schedule.steps} steps but the replay ended "
                f"after {steps}{missing}: the scenario changed since the ID was "
                "recorded, or it is not deterministic"
            )


def _names(threads: list[SimThread]) -> str:
    return ", ".join(repr(t.name) for t in threads) or "none"
