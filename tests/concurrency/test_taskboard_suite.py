"""The seed's concurrency suite, rewritten for interleave: one test per scenario.

The seed ran each operation in N real threads, counted exceptions, grepped their text for
"race", "deadlock" or "corrupt" and compared success rates with thresholds. Here each scenario
is two threads on fresh state, explored exhaustively:

- the buggy variant must be *found*: a finding of the expected kind, with a schedule ID whose
  replay shows the same finding again;
- the fixed variant must be *exhaustively clean*: every interleaving explored
  (``exhausted=True``) within the default budget, and no finding. The ``interleavings`` fixture
  fails the test with the full report otherwise.

The scenarios live in ``examples/taskboard/scenarios.py``; the walk-through is
``docs/from-stress-tests.md``.
"""

from __future__ import annotations

import pytest
from taskboard import scenarios
from taskboard.scenarios import CASES, Case

import interleave
from interleave import Deadlock, ExploreResult, Finding, LostUpdate, ThreadCrashed
from interleave._pytest_plugin import Interleavings

#: The tests of the seed suite (its classes' tests and its "additional scenarios").
SEED_TESTS = (
    "test_concurrent_epic_creation",
    "test_concurrent_task_updates",
    "test_concurrent_cascade_operations",
    "test_concurrent_cache_access",
    "test_concurrent_cache_invalidation",
    "test_concurrent_session_creation",
    "test_concurrent_log_writing",
    "test_race_condition_detection",
    "test_deadlock_detection",
    "test_resource_exhaustion",
)


def find(case: Case, interleavings: Interleavings) -> tuple[ExploreResult, Finding]:
    """Explore the buggy variant; return the result and its first finding of ``case.kind``,
    after checking that the exploration was exhaustive and that the finding's schedule ID
    replays it (same kind, same thread, same message)."""
    # interleave.explore, not the fixture: the fixture fails the test on findings (and keeps
    # their IDs to replay first next time), and finding them is what this test wants.
    result = interleave.explore(case.buggy)
    kinds = [f.kind for f in result.findings]
    assert case.kind in kinds, f"{case.name}: expected a {case.kind} finding, got {kinds}"
    assert result.exhausted, result.stopped_because
    finding = next(f for f in result.findings if f.kind == case.kind)
    assert finding.schedule_id.startswith("2-")
    assert finding.schedule_id in result.report()
    run = interleavings.replay(case.buggy, finding.schedule_id)
    same = [f for f in run.findings if f.kind == finding.kind and f.message == finding.message]
    assert same, f"replay of {finding.schedule_id} gave {[f.kind for f in run.findings]}"
    assert finding.trace is not None
    assert run.trace.choices == finding.trace.choices
    return result, finding


def clean(case: Case, interleavings: Interleavings) -> ExploreResult:
    """Explore the fixed variant through the fixture (which fails on any finding) and check
    that every interleaving was covered."""
    result = interleavings.explore(case.fixed)
    assert isinstance(result, ExploreResult)
    assert result.ok
    assert result.exhausted, f"{case.name}: fixed variant NOT exhausted: {result.stopped_text}"
    assert result.schedules_run >= 2
    return result


# -- database -------------------------------------------------------------------------------------


def test_concurrent_epic_creation(interleavings: Interleavings) -> None:
    """Seed: N threads create epics, each reads its epic back ("Data corruption detected")."""
    case = scenarios.case("epic_creation")
    _, finding = find(case, interleavings)
    assert isinstance(finding, ThreadCrashed)
    assert "Data corruption detected in epic creation" in finding.message
    assert finding.trace is not None
    labels = [op.label for op in finding.trace.ops]
    # The other thread's INSERT runs between this thread's INSERT and its last_insert_rowid().
    assert "SELECT last_insert_rowid()" in labels
    clean(case, interleavings)


def test_concurrent_task_updates(interleavings: Interleavings) -> None:
    """Seed: N threads update tasks at random. Here: two tasks of one epic are completed at
    once, and the epic's points_done must count both."""
    case = scenarios.case("task_updates")
    result, finding = find(case, interleavings)
    assert isinstance(finding, LostUpdate)
    assert finding.resource == ("sqlite", "taskboard.db", "epics", 1)
    assert "invariant" in {f.kind for f in result.findings}
    clean(case, interleavings)


def test_concurrent_cascade_operations(interleavings: Interleavings) -> None:
    """Seed: delete epics while checking that their tasks went with them. Here: the delete
    races a task insert into the same epic; no task may outlive its epic."""
    case = scenarios.case("cascade_operations")
    result, finding = find(case, interleavings)
    assert "check() returned False" in finding.message
    # The seed's own check fires too: tasks still exist after the delete.
    crashed = [f for f in result.findings if isinstance(f, ThreadCrashed)]
    assert crashed and "Cascade delete failed" in crashed[0].message
    clean(case, interleavings)


def test_concurrent_client_registration(interleavings: Interleavings) -> None:
    """Not in the seed: check-then-insert registers one new client twice."""
    case = scenarios.case("client_registration")
    _, finding = find(case, interleavings)
    assert finding.trace is not None
    inserts = [op for op in finding.trace.ops if (op.label or "").startswith("INSERT INTO clients")]
    assert len(inserts) == 2
    clean(case, interleavings)


# -- caches ---------------------------------------------------------------------------------------


def test_concurrent_cache_access(interleavings: Interleavings) -> None:
    """Seed: N threads parse and format durations through the caches and compare results."""
    case = scenarios.case("cache_access")
    _, finding = find(case, interleavings)
    assert "Failed to format duration: 1.5" in finding.message
    assert finding.trace is not None
    described = [op.describe() for op in finding.trace.ops]
    assert "in cache 'formatted'[1.5]" in described and "clear cache 'formatted'" in described
    clean(case, interleavings)


def test_concurrent_cache_invalidation(interleavings: Interleavings) -> None:
    """Seed: N threads calculate, invalidate and clear at random. Here: a parse races the
    switch to 8-hour days; the cache must not keep a 24-hour result."""
    case = scenarios.case("cache_invalidation")
    result, finding = find(case, interleavings)
    assert "check() returned False" in finding.message
    lost = [f for f in result.findings if isinstance(f, LostUpdate)]
    assert [f.resource for f in lost] == [("cache", "durations", "1 day")]
    clean(case, interleavings)


# -- sessions, logs, counters ---------------------------------------------------------------------


def test_concurrent_session_creation(interleavings: Interleavings) -> None:
    """Seed: N threads create sessions (it only slept: nothing was shared, nothing could fail).
    Here: two users create sessions in one store."""
    case = scenarios.case("session_creation")
    result, finding = find(case, interleavings)
    assert isinstance(finding, LostUpdate)
    assert finding.resource == ("shared", "session_sequence")
    kinds = {f.kind for f in result.findings}
    assert {"invariant", "exception"} <= kinds
    clean(case, interleavings)


def test_concurrent_log_writing(interleavings: Interleavings) -> None:
    """Seed: N threads each write their own temporary file (nothing shared). Here: two
    threads write to one log that rotates; no line may be lost."""
    case = scenarios.case("log_writing")
    result, finding = find(case, interleavings)
    assert "check() returned False" in finding.message
    lost = {f.resource for f in result.findings if isinstance(f, LostUpdate)}
    assert ("file", "app.log") in lost
    clean(case, interleavings)


def test_race_condition_detection(interleavings: Interleavings) -> None:
    """Seed: unsafe increment (read, sleep, write) vs safe increment (under a lock)."""
    case = scenarios.case("race_condition")
    result, finding = find(case, interleavings)
    assert isinstance(finding, LostUpdate)
    assert finding.resource == ("shared", "page_views")
    kinds = list(dict.fromkeys(f.kind for f in result.findings))
    assert kinds == ["lost-update", "invariant", "data-race"]
    clean(case, interleavings)


# -- deadlocks and exhaustion ---------------------------------------------------------------------


def test_deadlock_detection(interleavings: Interleavings) -> None:
    """Seed: two operations take BEGIN EXCLUSIVE in opposite orders (and slept, hoping)."""
    case = scenarios.case("deadlock")
    result, finding = find(case, interleavings)
    assert isinstance(finding, Deadlock)
    assert [f.kind for f in result.findings] == ["deadlock"]
    cycle = " ".join(finding.cycle)
    for name in ("archive-epic-1", "restore-epic-2", "'taskboard.db'", "'archive.db'"):
        assert name in cycle
    clean(case, interleavings)


def test_resource_exhaustion(interleavings: Interleavings) -> None:
    """Seed: open 1000 connections. Here: a pool of two, and a holder that asks for a second
    connection: two such holders wait for each other forever."""
    case = scenarios.case("resource_exhaustion")
    result, finding = find(case, interleavings)
    assert isinstance(finding, Deadlock)
    assert {w.thread for w in finding.waits} == {"report-A", "report-B"}
    assert all("semaphore 'pool'" in w.waits_for for w in finding.waits)
    assert [f.kind for f in result.findings] == ["deadlock"]
    clean(case, interleavings)


# -- the suite as a whole -------------------------------------------------------------------------


def test_every_seed_scenario_has_its_case_and_test() -> None:
    assert [c.seed_test for c in CASES if c.seed_test in SEED_TESTS] == list(SEED_TESTS)
    names = set(globals())
    for c in CASES:
        test = c.seed_test if c.seed_test in SEED_TESTS else f"test_concurrent_{c.name}"
        assert test in names, f"no test for the {c.name} scenario ({test})"
    assert len({c.name for c in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_each_scenario_is_small(case: Case) -> None:
    # Two threads, every one of them named after what it does.
    for factory in (case.buggy, case.fixed):
        scenario = factory()
        try:
            assert isinstance(scenario.threads, dict) and len(scenario.threads) == 2
        finally:
            if scenario.teardown is not None:
                scenario.teardown()


def test_fixed_variants_outside_an_exploration_work_as_plain_code() -> None:
    # The same factories run with no scheduler: the primitives are plain objects and sqlite3
    # is the real one, so each fixed scenario completes and its check passes.
    for case in CASES:
        scenario = case.fixed()
        try:
            assert isinstance(scenario.threads, dict)
            for fn in scenario.threads.values():
                fn()
            assert scenario.check is None or scenario.check() is not False, case.name
        finally:
            if scenario.teardown is not None:
                scenario.teardown()


def test_buggy_variant_is_the_default_and_the_environment_selects(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from taskboard import ENV_VAR, ActivityCounter

    monkeypatch.delenv(ENV_VAR, raising=False)
    assert ActivityCounter("x").variant == "buggy"
    monkeypatch.setenv(ENV_VAR, "fixed")
    assert ActivityCounter("x").variant == "fixed"
    assert ActivityCounter("x", variant="buggy").variant == "buggy"
    monkeypatch.setenv(ENV_VAR, "patched")
    with pytest.raises(ValueError, match=r"\$TASKBOARD_VARIANT='patched' must be 'buggy' or"):
        ActivityCounter("x")
    with pytest.raises(ValueError, match=r"variant='safe' must be 'buggy' or 'fixed'"):
        ActivityCounter("x", variant="safe")
