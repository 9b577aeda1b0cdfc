"""Reports that fit a terminal: step tables fold to the report's width (100 columns) instead of
wrapping, a lock-wait cycle goes one thread per line, and a summary given a width folds."""

from __future__ import annotations

import pytest
from gallery import results

import interleave
from interleave._report import render_trace, summary_report
from interleave.errors import InvalidArgument


def widest(text: str) -> int:
    return max(len(line) for line in text.splitlines())


def deep_module_scenario() -> interleave.Scenario:
    """Three threads whose code lives in a file with a long path (as in a real project)."""
    hits = interleave.Shared("requests_served_by_the_frontend_cache", 0)
    namespace: dict[str, object] = {"hits": hits}
    code = compile(
        "def worker():\n    hits.set(hits.get() + 1)\n",
        "/srv/projects/acme/services/frontend/src/acme_frontend/caching/counters/hits.py",
        "exec",
    )
    exec(code, namespace)
    worker = namespace["worker"]
    return interleave.Scenario(threads=[worker, worker, worker])  # type: ignore[list-item]


def test_a_wide_trace_folds_its_locations_onto_their_own_lines() -> None:
    result = interleave.explore(deep_module_scenario)
    finding = result.findings[0]
    assert finding.trace is not None
    wide = render_trace(finding.trace, width=10_000)
    assert widest(wide) > 100  # the case the folding is for
    report = result.report()
    assert widest(report) <= 100, "\n".join(ln for ln in report.splitlines() if len(ln) > 100)
    folded = render_trace(finding.trace)
    lines = folded.splitlines()
    assert "where" not in lines[0]
    at = [ln for ln in lines if ln.lstrip().startswith("at ")]
    assert len(at) == len(finding.trace)  # one location line per step, under it
    assert all(ln.startswith("      at ") for ln in at)


def test_a_narrow_width_shortens_paths_labels_and_resources() -> None:
    result = interleave.explore(deep_module_scenario)
    trace = result.findings[0].trace
    assert trace is not None
    narrow = render_trace(trace, width=60)
    assert widest(narrow) <= 60 or "..." in narrow
    assert ".../counters/hits.py:2" in narrow


def test_a_table_that_fits_is_left_alone() -> None:
    finding = results()["lost_update"].findings[0]
    assert finding.trace is not None
    text = render_trace(finding.trace)
    assert text.splitlines()[0].split()[-1] == "where"
    assert text == render_trace(finding.trace, width=10_000)


def test_a_long_lock_wait_cycle_goes_one_thread_per_line() -> None:
    report = results()["dining_philosophers"].report()
    assert widest(report) <= 100, [ln for ln in report.splitlines() if len(ln) > 100]
    assert "  philosopher0 --waits for--> lock 'fork1' --held by-->\n" in report
    assert "  philosopher1 --waits for--> lock 'fork2' --held by-->\n" in report


def test_a_summary_given_a_width_folds_to_it() -> None:
    rows = results()
    wide = summary_report(rows)
    assert widest(wide) > 100
    narrow = summary_report(rows, width=100)
    assert widest(narrow) <= 100
    lines = narrow.splitlines()
    assert lines[0].split() == ["scenario", "threads", "executions", "verdict", "time", "(s)"]
    lost = lines.index(next(ln for ln in lines if ln.startswith("lost_update ")))
    first = rows["lost_update"].findings[0]
    assert lines[lost + 1] == (
        f"  1 lost-update, 1 invariant, 1 data-race; replay: {first.schedule_id} (lost-update)"
    )
    assert "sampled (NOT exhausted: max_schedules)" in narrow
    assert summary_report(rows, width=1000) == wide
    with pytest.raises(InvalidArgument, match="width=10 must be a number of columns"):
        summary_report(rows, width=10)
