"""The pytest plugin, driven through ``pytester``: fixture, marker, options, cache, report.

Each test writes a small test module into a fresh directory and runs pytest on it in process
(the plugin is loaded by its entry point, as in a user's session). The inner sessions get their
own ini file with ``filterwarnings = error``, so a warning from the plugin fails them too.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

import interleave

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
"""

#: The schedule of ``lost_update`` that loses an update: worker#1 reads, worker#2 reads and
#: writes, worker#1 writes (choices 0, 1, 1, 0).
LOST_ID = "2-kAQEAAEKChoaAAGm"
#: The sequential schedule of ``lost_update`` (choices 0, 0, 1, 1): no finding.
SEQUENTIAL_ID = "2-UAQAChoKGq1B"

# Hypothesis's plugin imports all of hypothesis at the end of every inner session (pytester
# unloads it again between runs): the inner sessions do not need it.
INI = """
[pytest]
filterwarnings = error
addopts = -p no:hypothesispytest
"""


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


# --- failing and passing explorations ---------------------------------------------------------


def test_failing_scenario_fails_with_report_and_replay_line(project: pytest.Pytester) -> None:
    write(
        project,
        """
        def test_hits(interleavings):
            interleavings.explore(lost_update)
        """,
    )
    result = project.runpytest_inprocess()
    result.assert_outcomes(failed=1)
    out = result.stdout.str()
    assert "interleave: lost_update: 2 distinct finding(s)" in out
    assert "Finding 1 of 2: lost-update" in out
    assert "LOST UPDATE: overwrites it" in out
    assert f"pytest test_scn.py::test_hits --interleave-replay={LOST_ID}" in out
    assert "replay the first finding (lost-update):" in out
    assert "pytest NODEID" not in out
    # The report section and no internal frames of the plugin.
    result.stdout.fnmatch_lines(
        ["*- interleave -*", "explore lost_update: * schedules run, exhausted, findings: *"]
    )
    assert "_pytest_plugin.py" not in out


def test_passing_scenario_returns_exhausted_result(project: pytest.Pytester) -> None:
    write(
        project,
        """
        def test_locked(interleavings):
            result = interleavings.explore(locked3)
            assert isinstance(result, interleave.ExploreResult)
            assert result.ok and result.exhausted
            assert result.schedules_run == 6
        """,
    )
    result = project.runpytest_inprocess("-rA")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(
        [
            "*PASSES*",
            "*- interleave -*",
            "explore locked3: 6 schedules run, exhausted, findings: none (*)",
            "*- interleave -*",
            "interleave: 1 exploration(s) ran, 0 NOT exhausted",
        ]
    )


def test_marker_budget_passes_but_says_not_exhausted(project: pytest.Pytester) -> None:
    write(
        project,
        """
        @pytest.mark.interleave(max_schedules=2)
        def test_locked(interleavings):
            result = interleavings.explore(locked3)
            assert result.ok and not result.exhausted
        """,
    )
    result = project.runpytest_inprocess("-rA")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(
        [
            "explore locked3: 2 schedules run, NOT exhausted (stopped at max_schedules), *",
            "interleave: 1 exploration(s) ran, 1 NOT exhausted",
            "  NOT exhausted: test_scn.py::test_locked (locked3: 2 schedules, stopped at "
            "max_schedules)",
        ]
    )


def test_summary_is_a_junit_property(project: pytest.Pytester) -> None:
    write(
        project,
        """
        @pytest.mark.interleave(max_schedules=2)
        def test_locked(interleavings):
            interleavings.explore(locked3)
        """,
    )
    project.runpytest_inprocess("--junitxml=out.xml").assert_outcomes(passed=1)
    xml = (project.path / "out.xml").read_text()
    assert (
        '<property name="interleave" value="locked3: 2 schedules, NOT exhausted '
        '(stopped at max_schedules), findings: none" />'
    ) in xml


def test_junit_xml_carries_the_verdict_and_every_schedule_id(project: pytest.Pytester) -> None:
    write(
        project,
        """
        def test_hits(interleavings):
            interleavings.explore(lost_update)

        @pytest.mark.interleave(max_schedules=2)
        def test_locked(interleavings):
            interleavings.explore(locked3)
        """,
    )
    project.runpytest_inprocess("--junitxml=out.xml").assert_outcomes(passed=1, failed=1)
    xml = (project.path / "out.xml").read_text()
    assert '<property name="interleave_verdict" value="proved" />' in xml
    assert '<property name="interleave_schedules_run" value="4" />' in xml
    assert f'<property name="interleave_schedule_ids" value="{LOST_ID}" />' in xml
    assert '<property name="interleave_verdict" value="sampled" />' in xml
    assert xml.count('name="interleave_schedule_ids"') == 1  # the clean test has none


def test_tests_without_the_fixture_are_untouched(project: pytest.Pytester) -> None:
    write(
        project,
        """
        def test_plain():
            assert interleave.explore(locked3).ok
        """,
    )
    result = project.runpytest_inprocess("-rA")
    result.assert_outcomes(passed=1)
    out = result.stdout.str()
    assert "- interleave -" not in out  # no report section, no terminal summary
    assert "exploration(s) ran" not in out


#: What loading the plugin must not import: the engine's libraries and interleave itself.
HEAVY = {"greenlet", "_greenlet", "sqlite3", "_sqlite3", "networkx", "tabulate", "interleave"}


def test_loading_the_entry_point_imports_nothing_heavy() -> None:
    # As pytest loads it: the pytest11 entry point named interleave, after pytest itself.
    code = (
        "import importlib.metadata, pytest, sys; "
        "[entry] = [e for e in importlib.metadata.entry_points(group='pytest11') "
        "if e.name == 'interleave']; "
        "print(entry.load().__name__, sorted(sys.modules))"
    )
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", code],
        capture_output=True,
        text=True,
        check=True,
    )
    # Lines of -X importtime: "import time:  self [us] | cumulative | imported package" (the
    # module importlib loads itself has no line; every import it makes has one).
    loaded = {
        line.rpartition("|")[2].strip()
        for line in done.stderr.splitlines()
        if line.startswith("import time:") and "|" in line
    }
    name, _, modules = done.stdout.partition(" ")
    assert name == "_interleave_pytestplugin"
    assert "_pytest.fixtures" in loaded and "_pytest.fixtures" in modules
    heavy = sorted(m for m in loaded if m.partition(".")[0] in HEAVY)
    assert not heavy, heavy
    assert not [m for m in HEAVY if f"'{m}'" in modules or f"'{m}." in modules]


def test_the_summary_counts_the_verdicts_in_their_order() -> None:
    # The entry point cannot import interleave.Verdict: it keeps the words, in its order.
    import _interleave_pytestplugin

    assert tuple(interleave.Verdict) == _interleave_pytestplugin._VERDICTS


def test_import_of_plugin_is_cheap() -> None:
    code = (
        "import sys, interleave._pytest_plugin; "
        "heavy = {'networkx', 'tabulate'} & set(sys.modules); "
        "assert not heavy, heavy"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


# --- settings: keyword > marker > command line > ini > default -------------------------------

PRECEDENCE = """
def budget(interleavings, **kw):
    return interleavings.explore(locked3, **kw).max_schedules

def test_default_or_session(interleavings, request):
    print("DEFAULT", budget(interleavings))

@pytest.mark.interleave(max_schedules=3)
def test_marker(interleavings):
    print("MARKER", budget(interleavings))

@pytest.mark.interleave(max_schedules=3)
def test_keyword(interleavings):
    print("KEYWORD", budget(interleavings, max_schedules=2))
"""


@pytest.mark.parametrize(
    ("ini", "args", "expected_default"),
    [
        ("", (), "10000"),
        ("interleave_max_schedules = 7\n", (), "7"),
        ("", ("--interleave-max-schedules=5",), "5"),
        ("interleave_max_schedules = 7\n", ("--interleave-max-schedules", "5"), "5"),
    ],
)
def test_precedence_of_max_schedules(
    pytester: pytest.Pytester, ini: str, args: tuple[str, ...], expected_default: str
) -> None:
    pytester.makeini(INI + ini)
    write(pytester, PRECEDENCE)
    result = pytester.runpytest_inprocess("-s", *args)
    result.assert_outcomes(passed=3)
    out = result.stdout.str()
    # The library default is 10_000; the marker beats the session, the keyword the marker.
    assert f"DEFAULT {expected_default}" in out.replace("_", "")
    assert "MARKER 3" in out
    assert "KEYWORD 2" in out


def test_class_marker_applies_and_method_marker_wins(project: pytest.Pytester) -> None:
    write(
        project,
        """
        @pytest.mark.interleave(max_schedules=4, max_steps=50)
        class TestBudget:
            def test_class(self, interleavings):
                result = interleavings.explore(locked3)
                assert result.max_schedules == 4

            @pytest.mark.interleave(max_schedules=2)
            def test_method(self, interleavings):
                result = interleavings.explore(locked3)
                assert result.max_schedules == 2
        """,
    )
    project.runpytest_inprocess().assert_outcomes(passed=2)


def test_strategy_and_seed_from_command_line_and_ini(pytester: pytest.Pytester) -> None:
    pytester.makeini(INI + "interleave_strategy = random\ninterleave_seed = 11\n")
    write(
        pytester,
        """
        def test_session(interleavings):
            print("STRATEGY", interleavings.explore(locked3, max_schedules=3).strategy)

        @pytest.mark.interleave(strategy="dfs")
        def test_marker_dfs(interleavings):
            # The session seed applies to random explorations only: no error with dfs.
            print("STRATEGY", interleavings.explore(locked3).strategy)
        """,
    )
    result = pytester.runpytest_inprocess("-s")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(["*STRATEGY random (seed=11)*", "*STRATEGY dfs*"])
    result = pytester.runpytest_inprocess("-s", "--interleave-seed=5")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(["*STRATEGY random (seed=5)*"])


def test_session_seed_leaves_the_unseeded_default_strategy_alone(
    project: pytest.Pytester,
) -> None:
    write(
        project,
        """
        def test_default(interleavings):
            print("STRATEGY", interleavings.explore(locked3).strategy, "END")
        """,
    )
    result = project.runpytest_inprocess("-s", "--interleave-seed=5")
    result.assert_outcomes(passed=1)
    [line] = [ln for ln in result.outlines if "STRATEGY" in ln]
    assert "seed" not in line


def test_bad_session_value_names_its_origin(project: pytest.Pytester) -> None:
    write(
        project,
        """
        def test_locked(interleavings):
            interleavings.explore(locked3)
        """,
    )
    result = project.runpytest_inprocess("--interleave-strategy=bogus")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "interleave: invalid setting: strategy='bogus' is not one of *",
            "settings of this test: strategy='bogus' from --interleave-strategy",
        ]
    )


def test_non_integer_ini_value_is_a_usage_error(pytester: pytest.Pytester) -> None:
    pytester.makeini(INI + "interleave_max_schedules = lots\n")
    write(pytester, "def test_x(interleavings):\n    pass\n")
    result = pytester.runpytest_inprocess()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        ["*interleave: ini interleave_max_schedules='lots' must be a whole number, such as 1000*"]
    )


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        (["--interleave-workers=0"], "*--interleave-workers='0' must be at least 1, such as 2*"),
        (
            ["--interleave-workers=two"],
            "*--interleave-workers='two' must be a whole number, such as 2*",
        ),
        (["--interleave-max-schedules=-5"], "*--interleave-max-schedules='-5' must be at least 1*"),
    ],
)
def test_an_out_of_range_number_is_a_usage_error_at_start(
    pytester: pytest.Pytester, given: list[str], expected: str
) -> None:
    # One usage error when the session starts, not a failure in every test.
    pytester.makeini(INI)
    write(pytester, "def test_x(interleavings):\n    pass\n")
    result = pytester.runpytest_inprocess(*given)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([expected])


def test_integer_in_pyproject_toml(pytester: pytest.Pytester) -> None:
    # pytest >= 9.2 reads native [tool.pytest] tables with typed values; older versions only
    # know [tool.pytest.ini_options]. A TOML integer must work in both.
    version = tuple(int(p) for p in pytest.__version__.split(".")[:2] if p.isdigit())
    if version >= (9, 2):
        table = '[tool.pytest]\naddopts = ["-p", "no:hypothesispytest"]\n'
    else:
        table = '[tool.pytest.ini_options]\naddopts = "-p no:hypothesispytest"\n'
    pytester.makefile(
        ".toml", pyproject=table + 'filterwarnings = ["error"]\ninterleave_max_schedules = 4\n'
    )
    write(
        pytester,
        """
        def test_x(interleavings):
            print("BUDGET", interleavings.explore(locked3).max_schedules)
        """,
    )
    result = pytester.runpytest_inprocess("-s")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*BUDGET 4*"])


def test_unknown_marker_keyword_names_it_and_the_allowed_ones(project: pytest.Pytester) -> None:
    write(
        project,
        """
        @pytest.mark.interleave(max_schedule=5)
        def test_typo(interleavings):
            interleavings.explore(locked3)

        @pytest.mark.interleave(5)
        def test_positional(interleavings):
            interleavings.explore(locked3)
        """,
    )
    result = project.runpytest_inprocess()
    result.assert_outcomes(errors=2)
    result.stdout.fnmatch_lines(
        [
            "*@pytest.mark.interleave got an unknown keyword 'max_schedule'; allowed: "
            "*, max_schedules, max_steps, *",
        ]
    )
    result.stdout.fnmatch_lines(["*@pytest.mark.interleave takes keywords only, got positional*"])


def test_marker_is_registered(project: pytest.Pytester) -> None:
    result = project.runpytest_inprocess("--markers")
    result.stdout.fnmatch_lines(["@pytest.mark.interleave(max_schedules=*"])


# --- --interleave-replay ----------------------------------------------------------------------

REPLAYED = """
def test_hits(interleavings):
    run = interleavings.explore(lost_update)
    assert isinstance(run, interleave.RunResult)
    print("CHOICES", run.schedule_id, run.trace.choices)
"""


def test_replay_option_replays_that_schedule_and_fails_on_findings(
    project: pytest.Pytester,
) -> None:
    write(project, REPLAYED)
    result = project.runpytest_inprocess(f"--interleave-replay={LOST_ID}")
    result.assert_outcomes(failed=1)
    out = result.stdout.str()
    assert f"interleavings.explore() replays {LOST_ID} instead of exploring" in out
    assert f"interleave: replayed {LOST_ID} instead of exploring (--interleave-replay)" in out
    assert f"interleave: replay of lost_update with {LOST_ID}: 4 steps" in out
    assert f"pytest test_scn.py::test_hits --interleave-replay={LOST_ID}" in out
    assert "schedules run" not in out  # nothing was explored
    assert cached(project) == {}  # a replay does not touch the cache


def test_replay_option_passes_when_the_schedule_is_clean(project: pytest.Pytester) -> None:
    write(project, REPLAYED)
    result = project.runpytest_inprocess("-s", "-rA", f"--interleave-replay={SEQUENTIAL_ID}")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(
        [
            f"*CHOICES {SEQUENTIAL_ID} (0, 0, 1, 1)",
            f"replay (--interleave-replay) lost_update {SEQUENTIAL_ID}: 4 steps, findings: none; "
            "nothing was explored",
            f"interleave: 1 replay(s) of --interleave-replay={SEQUENTIAL_ID}",
        ]
    )


def test_invalid_replay_id_is_a_clear_error(project: pytest.Pytester) -> None:
    write(project, REPLAYED)
    result = project.runpytest_inprocess("--interleave-replay=not-an-id")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "interleave: --interleave-replay got an invalid schedule ID: *",
            "Copy the ID from the 'schedule ID:' line of a failure report.",
        ]
    )
    assert "Traceback" not in result.stdout.str()


def test_replay_id_of_another_scenario_says_it_does_not_fit(project: pytest.Pytester) -> None:
    write(
        project,
        """
        def test_locked(interleavings):
            interleavings.explore(locked3)
        """,
    )
    result = project.runpytest_inprocess(f"--interleave-replay={LOST_ID}")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [f"interleave: --interleave-replay={LOST_ID} does not fit the scenario of *test_locked*"]
    )


def test_empty_replay_id_is_a_usage_error(project: pytest.Pytester) -> None:
    write(project, REPLAYED)
    result = project.runpytest_inprocess("--interleave-replay=")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--interleave-replay needs a schedule ID*"])


def test_fixture_replay_returns_the_run_without_failing(project: pytest.Pytester) -> None:
    write(
        project,
        f"""
        def test_known_order(interleavings):
            run = interleavings.replay(lost_update, {LOST_ID!r})
            assert [f.kind for f in run.findings] == ["lost-update", "invariant"]

        def test_bad_id(interleavings):
            with pytest.raises(interleave.InvalidScheduleId):
                interleavings.replay(lost_update, "garbage")
        """,
    )
    project.runpytest_inprocess().assert_outcomes(passed=2)


# --- the cache of failing schedules -------------------------------------------------------------

# A write/read race: the reader must see the write. The "fixed" version accepts both orders
# with the same operations, so the cached schedule replays and passes; the "changed" version
# takes a lock, so the cached schedule no longer fits it.
RACE = """
def race():
    flag = interleave.Shared("flag", False, racy=True)  # the check judges the order
    seen = []

    def writer():
        flag.set(True)

    def reader():
        seen.append(flag.get())

    return interleave.Scenario(threads=[writer, reader], check=lambda: {check})


def test_race(interleavings):
    interleavings.explore(race)
"""
BUGGY = RACE.format(check="seen == [True]")
FIXED = RACE.format(check="len(seen) == 1")


def test_cache_stores_failing_id_and_replays_it_first(project: pytest.Pytester) -> None:
    write(project, BUGGY)
    first = project.runpytest_inprocess()
    first.assert_outcomes(failed=1)
    assert "Finding 1 of 1: invariant" in first.stdout.str()
    entry = cached(project)["test_scn.py::test_race"]
    assert list(entry) == ["test_scn:race"]
    [failing_id] = entry["test_scn:race"]
    assert f"--interleave-replay={failing_id}" in first.stdout.str()

    second = project.runpytest_inprocess()
    second.assert_outcomes(failed=1)
    out = second.stdout.str()
    assert f"interleave: cached failing schedule {failing_id} (from an earlier run, " in out
    assert "still fails" in out
    assert "schedules run" not in out  # it failed before exploring
    assert f"pytest test_scn.py::test_race --interleave-replay={failing_id}" in out
    assert "1 cached failing schedule(s) replayed first" in out

    write(project, FIXED)
    third = project.runpytest_inprocess("-rA")
    third.assert_outcomes(passed=1)
    third.stdout.fnmatch_lines(
        [
            f"replay of cached failing schedule {failing_id}: passes now, dropped",
            "explore race: * schedules run, exhausted, findings: none (*)",
            f"  cached failing schedule {failing_id} of test_scn.py::test_race passes now: dropped",
        ]
    )
    assert cached(project) == {}


def test_cached_id_that_no_longer_fits_is_dropped(project: pytest.Pytester) -> None:
    write(project, BUGGY)
    project.runpytest_inprocess().assert_outcomes(failed=1)
    [failing_id] = cached(project)["test_scn.py::test_race"]["test_scn:race"]

    changed = BUGGY.replace(
        "    def writer():\n        flag.set(True)",
        "    lock = interleave.Lock()\n\n"
        "    def writer():\n        with lock:\n            flag.set(True)",
    )
    assert changed != BUGGY
    write(project, changed)
    result = project.runpytest_inprocess()
    # The ID was dropped, the scenario explored afresh, and the bug found again.
    result.assert_outcomes(failed=1)
    out = result.stdout.str()
    assert f"dropped cached schedule {failing_id} of test_scn.py::test_race: it no longer " in out
    assert "Finding 1 of 1: invariant" in out


def test_cache_keeps_ids_per_test_and_scenario(project: pytest.Pytester) -> None:
    write(
        project,
        """
        def test_one(interleavings):
            interleavings.explore(locked3)
            interleavings.explore(lost_update)

        @pytest.mark.parametrize("n", [1, 2])
        def test_param(interleavings, n):
            interleavings.explore(lost_update)
        """,
    )
    project.runpytest_inprocess().assert_outcomes(failed=3)
    assert cached(project) == {
        "test_scn.py::test_one": {"test_scn:lost_update": [LOST_ID]},
        "test_scn.py::test_param[1]": {"test_scn:lost_update": [LOST_ID]},
        "test_scn.py::test_param[2]": {"test_scn:lost_update": [LOST_ID]},
    }
    # locked3 runs first in test_one and is not handed the ID of lost_update.
    result = project.runpytest_inprocess("test_scn.py::test_one", "-rA")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "explore locked3: 6 schedules run, exhausted, findings: none (*)",
            f"replay of cached failing schedule {LOST_ID}: still fails (lost-update, invariant);"
            " not explored",
        ]
    )


def test_without_cacheprovider_it_still_explores(project: pytest.Pytester) -> None:
    write(project, BUGGY)
    result = project.runpytest_inprocess("-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)
    assert "Finding 1 of 1: invariant" in result.stdout.str()


def test_plugin_loads_by_entry_point_in_a_subprocess(project: pytest.Pytester) -> None:
    write(
        project,
        """
        def test_hits(interleavings):
            interleavings.explore(lost_update)
        """,
    )
    result = project.runpytest_subprocess()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines([f"*pytest test_scn.py::test_hits --interleave-replay={LOST_ID}"])


def test_a_cached_replay_leads_with_the_failure_not_its_data_race(project: pytest.Pytester) -> None:
    # The saved IDs come back sorted: the data race's (the sequential schedule) sorts before the
    # lost update's, and the test failed with it, not with what the last run reported first.
    write(
        project,
        """
        def racy_update():
            hits = interleave.Shared("hits", 0)

            def worker():
                hits.set(hits.get() + 1)

            return interleave.Scenario(threads=[worker, worker], check=lambda: hits.get() == 2)

        def test_racy(interleavings):
            interleavings.explore(racy_update)
        """,
    )
    project.runpytest_inprocess().assert_outcomes(failed=1)
    saved = cached(project)["test_scn.py::test_racy"]["test_scn:racy_update"]
    assert saved == [SEQUENTIAL_ID, LOST_ID]
    second = project.runpytest_inprocess()
    second.assert_outcomes(failed=1)
    out = second.stdout.str()
    assert f"interleave: cached failing schedule {LOST_ID} (from an earlier run, " in out
    assert f"pytest test_scn.py::test_racy --interleave-replay={LOST_ID}" in out
