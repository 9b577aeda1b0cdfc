"""The plugin's verdicts, ``--interleave-require-proof`` and pytest-xdist, through ``pytester``.

Every exploring test gets a verdict line in the terminal summary; a session (or a marker, or a
call) that requires a proof fails a clean test whose verdict is not ``proved``. Under
pytest-xdist the summary is printed by the controller from what the workers' reports carry,
and the cache of failing schedules is written by the controller alone, so no worker's entries
are lost.
"""

from __future__ import annotations

import re
import textwrap

import pytest

SCENARIOS = """
import interleave
import pytest


def lost_update():
    # racy=True: these tests are about the plugin, not about the program's data race.
    hits = interleave.Shared("hits", 0, racy=True)

    def worker():
        hits.set(hits.get() + 1)

    return interleave.Scenario(threads=[worker, worker], check=lambda: hits.get() == 2)


def locked3():
    hits = interleave.Shared("hits", 0)
    lock = interleave.Lock()

    def worker():
        with lock:
            hits.set(hits.get() + 1)

    return interleave.Scenario(threads=[worker] * 3, check=lambda: hits.get() == 3)


def clean_race():
    # Clean, and its interleavings need preemptions: a preemption bound of 0 cuts some.
    hits = interleave.Shared("hits", 0, racy=True)

    def worker():
        for _ in range(2):
            hits.set(hits.get() + 1)

    return interleave.Scenario(threads=[worker, worker], check=lambda: hits.get() >= 2)
"""

#: The schedule of ``lost_update`` that loses an update (as in test_plugin.py).
LOST_ID = "2-kAQEAAEKChoaAAGm"

INI = """
[pytest]
filterwarnings = error
addopts = -p no:hypothesispytest
"""

#: One test per verdict a test can reach, and one with findings that stopped early.
VERDICTS = """
def test_proved(interleavings):
    assert interleavings.explore(locked3).verdict == "proved"

@pytest.mark.interleave(strategy="dfs", preemption_bound=0)
def test_bounded(interleavings):
    assert interleavings.explore(clean_race).verdict == "bounded"

@pytest.mark.interleave(strategy="random", max_schedules=5)
def test_random(interleavings):
    assert interleavings.explore(locked3).verdict == "sampled"

def test_budget(interleavings):
    assert interleavings.explore(locked3, max_schedules=2).verdict == "sampled"

@pytest.mark.interleave(stop_on_first=True, minimise=False, strategy="dfs")
def test_first_finding(interleavings):
    interleavings.explore(lost_update)
"""

#: The verdict lines of VERDICTS, as the terminal summary prints them.
VERDICT_LINES = [
    "  proved: test_scn.py::test_proved (locked3: 6 schedules)",
    "  bounded: test_scn.py::test_bounded (clean_race: * schedules, preemption-bound)",
    "  sampled: test_scn.py::test_random (locked3: 5 schedules, stopped at max_schedules)",
    "  sampled: test_scn.py::test_budget (locked3: 2 schedules, stopped at max_schedules)",
    "  sampled: test_scn.py::test_first_finding (lost_update: * schedules, stopped at the "
    "first finding, * finding(s))",
]


@pytest.fixture
def project(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makeini(INI)
    return pytester


def write(pytester: pytest.Pytester, body: str, name: str = "test_scn") -> None:
    pytester.makepyfile(**{name: SCENARIOS + textwrap.dedent(body)})


def cached(pytester: pytest.Pytester) -> dict[str, dict[str, list[str]]]:
    """The failing schedules saved in pytest's cache: ``{nodeid: {scenario: [IDs]}}``.

    The plugin keeps them in a directory database (``.pytest_cache/d/interleave``): one folder
    per key (``"NODEID SCENARIO"``, written in its ``key`` file), one ``.id`` file per ID.
    """
    data: dict[str, dict[str, list[str]]] = {}
    for key_file in sorted((pytester.path / ".pytest_cache" / "d" / "interleave").glob("*/key")):
        ids = sorted(p.read_text() for p in key_file.parent.glob("*.id"))
        if ids:
            nodeid, _, scenario = key_file.read_text().rpartition(" ")
            data.setdefault(nodeid, {})[scenario] = ids
    return data


def summary(result: pytest.RunResult) -> list[str]:
    """The lines of the interleave terminal summary (after its section header)."""
    lines = result.outlines
    start = max(i for i, line in enumerate(lines) if re.fullmatch(r"-+ interleave -+", line))
    end = next(
        (i for i in range(start + 1, len(lines)) if lines[i].startswith(("=", "FAILED"))),
        len(lines),
    )
    return lines[start + 1 : end]


# --- verdicts in the terminal summary -----------------------------------------------------------


@pytest.mark.parametrize("workers", [None, "2"], ids=["one-process", "xdist-n2"])
def test_the_summary_gives_every_exploring_test_its_verdict(
    project: pytest.Pytester, workers: str | None
) -> None:
    write(project, VERDICTS)
    args = ("-n", workers) if workers else ()
    result = project.runpytest_inprocess(*args)
    result.assert_outcomes(passed=4, failed=1)
    lines = summary(result)
    assert lines[0] == "interleave: 5 exploration(s) ran, 4 NOT exhausted"
    assert lines[1] == "  verdicts: 1 proved, 1 bounded, 3 sampled"
    # Under xdist the lines come in the order the tests finished: match each on its own.
    for pattern in VERDICT_LINES:
        result.stdout.fnmatch_lines([pattern])
    for name in ("test_bounded", "test_random", "test_budget", "test_first_finding"):
        result.stdout.fnmatch_lines([f"  NOT exhausted: test_scn.py::{name} (*"])
    assert len(lines) == 2 + len(VERDICT_LINES) + 4


def test_a_failing_exploration_that_stopped_early_is_counted_not_exhausted(
    project: pytest.Pytester,
) -> None:
    # It used to say "1 exploration(s) ran, 0 NOT exhausted": only clean runs were counted.
    write(
        project,
        """
        @pytest.mark.interleave(stop_on_first=True, minimise=False, strategy="dfs")
        def test_first_finding(interleavings):
            interleavings.explore(lost_update)
        """,
    )
    result = project.runpytest_inprocess()
    result.assert_outcomes(failed=1)
    assert summary(result)[0] == "interleave: 1 exploration(s) ran, 1 NOT exhausted"


# --- --interleave-require-proof -------------------------------------------------------------


def test_require_proof_fails_each_clean_test_whose_verdict_is_not_proved(
    project: pytest.Pytester,
) -> None:
    write(project, VERDICTS)
    result = project.runpytest_inprocess("--interleave-require-proof")
    result.assert_outcomes(passed=1, failed=4)
    out = result.stdout.str()
    result.stdout.fnmatch_lines(
        [
            "*interleave: locked3: the verdict is 'sampled', not 'proved' (stopped at "
            "max_schedules before covering every schedule, after 2 schedule(s)), and this test "
            "requires a proof (require_proof from --interleave-require-proof).",
            "*For a proof, use strategy='dpor' (or 'dfs'), no stop_on_first, and raise "
            "max_schedules (or the timeout) until the run says 'exhausted' (settings go in "
            "@pytest.mark.interleave(...) or the keywords of interleavings.explore()).",
            "*Or, if a sample is what this test means to run, opt it out with "
            "@pytest.mark.interleave(require_proof=False).",
        ]
    )
    result.stdout.fnmatch_lines(
        ["*interleave: clean_race: the verdict is 'bounded', not 'proved' *", "*drop pre*"]
    )
    # The test that found something fails with its findings, not with a missing proof.
    result.stdout.fnmatch_lines(["*test_first_finding*", "*lost_update: * distinct finding(s)*"])
    # (Counted outside pytest's short summary, which repeats each message whole under CI=1.)
    failures = out.split("short test summary info")[0]
    assert failures.count("the verdict is 'sampled', not 'proved'") == 2
    # The summary still gives each test its verdict.
    result.stdout.fnmatch_lines(["  verdicts: 1 proved, 1 bounded, 3 sampled"])


ON, OFF = (
    "@pytest.mark.interleave(require_proof=True)",
    "@pytest.mark.interleave(require_proof=False)",
)


@pytest.mark.parametrize(
    ("ini", "marker", "args", "outcome"),
    [
        ("interleave_require_proof = true\n", "", (), "failed"),
        ("interleave_require_proof = false\n", "", (), "passed"),
        ("", ON, (), "failed"),
        ("interleave_require_proof = true\n", OFF, (), "passed"),
        ("", OFF, ("--interleave-require-proof",), "passed"),
        ("", "", (), "passed"),
    ],
    ids=["ini", "ini-false", "marker", "marker-opts-out-of-ini", "marker-opts-out-of-flag", "off"],
)
def test_require_proof_from_the_ini_and_the_marker(
    pytester: pytest.Pytester, ini: str, marker: str, args: tuple[str, ...], outcome: str
) -> None:
    pytester.makeini(INI + ini)
    write(
        pytester,
        f"""
        {marker}
        def test_budget(interleavings):
            interleavings.explore(locked3, max_schedules=2)
        """,
    )
    result = pytester.runpytest_inprocess(*args)
    result.assert_outcomes(**{outcome: 1})
    if outcome == "failed":
        origin = "ini interleave_require_proof" if ini else "@pytest.mark.interleave"
        result.stdout.fnmatch_lines([f"*requires a proof (require_proof from {origin}).*"])


def test_require_proof_as_a_keyword_of_the_call(project: pytest.Pytester) -> None:
    write(
        project,
        """
        def test_budget(interleavings):
            interleavings.explore(locked3, max_schedules=2, require_proof=True)

        def test_proved(interleavings):
            result = interleavings.explore(locked3, require_proof=True)
            assert result.verdict == "proved"

        def test_bad_value(interleavings):
            interleavings.explore(locked3, require_proof="yes")
        """,
    )
    result = project.runpytest_inprocess()
    result.assert_outcomes(passed=1, failed=2)
    result.stdout.fnmatch_lines(
        [
            "*requires a proof (require_proof from the explore() call).*",
            "*interleave: invalid setting: require_proof='yes' must be True or False (from the "
            "explore() call)*",
        ]
    )
    assert "opt it out" not in result.stdout.str()  # the test asked for it itself


def test_require_proof_leaves_a_requested_replay_alone(project: pytest.Pytester) -> None:
    # A replay explores nothing: a printed replay line must work where proofs are required.
    write(
        project,
        """
        def test_hits(interleavings):
            interleavings.explore(lost_update)
        """,
    )
    sequential = "1-AAQAAgEC"
    result = project.runpytest_inprocess(
        "--interleave-require-proof", f"--interleave-replay={sequential}"
    )
    result.assert_outcomes(passed=1)
    result = project.runpytest_inprocess(
        "--interleave-require-proof", f"--interleave-replay={LOST_ID}"
    )
    result.assert_outcomes(failed=1)
    assert "not 'proved'" not in result.stdout.str()


def test_require_proof_is_in_the_help(project: pytest.Pytester) -> None:
    result = project.runpytest_inprocess("--help")
    result.stdout.fnmatch_lines(["*--interleave-require-proof*"])
    result.stdout.fnmatch_lines(["*interleave_require_proof (bool):*"])


# --- pytest-xdist: the cache loses nothing ---------------------------------------------------

SIXTY = """
@pytest.mark.parametrize("n", range(60))
def test_hits(interleavings, n):
    interleavings.explore(lost_update)
"""


def test_sixty_failing_tests_under_four_workers_leave_sixty_cached_ids(
    project: pytest.Pytester,
) -> None:
    # Every worker used to read-modify-write the one cache key: 1 to 3 of the 60 survived.
    write(project, SIXTY)
    # --tb=no: sixty full reports cost more time than the rest of the test.
    first = project.runpytest_inprocess("-n", "4", "--tb=no")
    first.assert_outcomes(failed=60)
    data = cached(project)
    assert sorted(data) == sorted(f"test_scn.py::test_hits[{n}]" for n in range(60))
    assert all(entry == {"test_scn:lost_update": [LOST_ID]} for entry in data.values())

    # The next run replays each one first, in whichever worker runs the test.
    second = project.runpytest_inprocess("-n", "4", "--tb=no", "-rf")
    second.assert_outcomes(failed=60)
    reasons = [line for line in second.outlines if line.startswith("FAILED ")]
    assert len(reasons) == 60
    assert all(" - Failed: interleave: cached failing sched" in line for line in reasons)
    second.stdout.fnmatch_lines(
        ["interleave: 0 exploration(s) ran, 0 NOT exhausted, 60 cached failing schedule(s) *"]
    )
    assert cached(project) == data


RACE = """
import interleave
import pytest


def race():
    flag = interleave.Shared("flag", False, racy=True)  # the check judges the order
    seen = []

    def writer():
        flag.set(True)

    def reader():
        seen.append(flag.get())

    return interleave.Scenario(threads=[writer, reader], check=lambda: {check})


@pytest.mark.parametrize("n", range(10))
def test_race(interleavings, n):
    interleavings.explore(race)
"""


def test_ids_that_pass_now_are_dropped_under_xdist(project: pytest.Pytester) -> None:
    project.makepyfile(test_race=RACE.format(check="seen == [True]"))
    project.runpytest_inprocess("-n", "2", "--tb=no").assert_outcomes(failed=10)
    assert len(cached(project)) == 10

    # Fixed: the cached schedules replay and pass, so each is dropped, in the worker that
    # replayed it, and the controller removes them all from the cache.
    project.makepyfile(test_race=RACE.format(check="len(seen) == 1"))
    result = project.runpytest_inprocess("-n", "2")
    result.assert_outcomes(passed=10)
    assert (
        len(
            re.findall(
                r"cached failing schedule \S+ of \S+ passes now: dropped", result.stdout.str()
            )
        )
        == 10
    )
    assert cached(project) == {}
