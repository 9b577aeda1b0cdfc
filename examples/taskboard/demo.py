"""The taskboard demo: explore every scenario in both variants and print one summary table.

``run_demo()`` explores each scenario of :data:`taskboard.scenarios.CASES`, buggy then fixed;
``render_demo(results)`` turns the results into the summary table (``summary_report``) followed
by one paragraph per buggy variant: what was found and the command that replays it. ``interleave
demo`` prints the same from the ``DEMO`` list of ``scenarios.py``; this module runs on its own::

    python -m examples.taskboard.demo          # from the repository root
    python -m taskboard.demo                   # from examples/

Example::

    from taskboard.demo import render_demo, run_demo

    results = run_demo()
    print(render_demo(results))
    assert all(r.exhausted for r in results)
"""

from __future__ import annotations

import sys
import textwrap
from collections.abc import Callable, Sequence

import interleave
from interleave import ExploreResult, summary_report

from .scenarios import CASES, Case

__all__ = ["main", "render_demo", "run_demo"]


def run_demo(
    cases: Sequence[Case] = CASES,
    *,
    progress: Callable[[int, int, float], None] | None = None,
) -> list[ExploreResult]:
    """Explore every case's buggy and fixed variant (default budget); return the results in
    that order.

    Example::

        results = run_demo()
        assert [r.ok for r in results[:2]] == [False, True]   # epic_creation: buggy, fixed
    """
    results = []
    for case in cases:
        for factory in (case.buggy, case.fixed):
            results.append(interleave.explore(factory, progress=progress))
    return results


def render_demo(results: Sequence[ExploreResult]) -> str:
    """The summary table of ``results``, then what each buggy variant showed and how to
    replay it.

    Example::

        print(render_demo(run_demo()))
    """
    out = [
        "taskboard: the stress-test suite of a task tracker, as exhaustive explorations",
        "(each scenario: 2 threads on fresh state; *_buggy is the shipped code, *_fixed the fix)",
        "",
        summary_report(results, width=100),
    ]
    for result in results:
        if result.ok:
            continue
        first = result.findings[0]
        message = textwrap.shorten(first.message.splitlines()[0], 96, placeholder=" …")
        kinds = ", ".join(dict.fromkeys(f.kind for f in result.findings))
        out.append("")
        out.append(f"{result.scenario}: {kinds}")
        out.append(f"  {message}")
        target = result.target or f"taskboard.scenarios:{result.scenario}"
        out.append(f"  replay: interleave replay {target} {first.schedule_id}")
    return "\n".join(out)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the demo and print it; the exit status is 0 (finding the bugs is the point)."""
    del argv
    print(render_demo(run_demo()))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
