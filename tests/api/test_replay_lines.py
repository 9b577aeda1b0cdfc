"""Every replay line a report prints reproduces its finding when pasted, whatever options the
exploration ran with: the ID records them (issue 10: the python and shell lines of an
exploration with ``trace_attributes=True``, and every line of one with a raised
``max_steps``, used to raise ScheduleDivergence).

The explorations run in a subprocess whose working directory holds the scenario file (so
``trace_attributes`` treats it as project code); each pasted line runs as a user would run it:
the python line in a fresh interpreter, the shell line as a command, the pytest line in a
pytester subprocess (in-process runs would share interleave's caches of imported modules).
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

SCENARIOS = textwrap.dedent(
    """
    import interleave
    import scn_factories


    class HitCounter:
        def __init__(self):
            self.count = 0

        def hit(self):
            self.count += 1  # a read, then a write: traced with trace_attributes=True


    def attr_race():
        counter = HitCounter()
        return interleave.Scenario(
            threads=[counter.hit, counter.hit], check=lambda: counter.count == 2
        )


    def long_race():
        # One thread needs more than the default max_steps (10,000) before its increment.
        warmup = interleave.Shared("warmup", 0)
        hits = interleave.Shared("hits", 0)

        def slow():
            for _ in range(10_500):
                warmup.get()
            hits.set(hits.get() + 1)

        def fast():
            hits.set(hits.get() + 1)

        return interleave.Scenario(
            threads={"slow": slow, "fast": fast}, check=lambda: hits.get() == 2
        )


    """
)

#: A function that makes a factory: its qualname (make_race.<locals>.scenario) names nothing
#: importable; a module-level name bound to what it makes does.
MAKE_RACE = textwrap.dedent(
    """

    def make_race(n):
        def scenario():
            hits = interleave.Shared("hits", 0)

            def hit():
                hits.set(hits.get() + 1)

            return interleave.Scenario(threads=[hit] * n, check=lambda: hits.get() == n)

        return scenario
    """
)

SCENARIOS += MAKE_RACE + textwrap.dedent(
    """

    made_race = make_race(2)

    # Made by a function of another module: its own module binds no name to it, this one does.
    elsewhere_race = scn_factories.make_race(2)
    """
)

#: A module whose function makes a factory (``scn.elsewhere_race``).
FACTORIES = "import interleave\n" + MAKE_RACE

#: case -> (factory, keywords of explore())
CASES = {
    "trace_attributes": ("attr_race", "trace_attributes=True"),
    "max_steps": ("long_race", "max_steps=50_000, minimise=False"),
    "made_by_a_function": ("made_race", "minimise=True"),
    "made_in_another_module": ("elsewhere_race", "minimise=True"),
}

EXPLORE = """
import json, interleave, scn
result = interleave.explore(scn.{factory}, {options})
first = result.findings[0].schedule_id
# That execution's kinds; the program's race (reported once, from whichever execution showed
# it first) shows in the replay of every execution, last.
kinds = [f.kind for f in result.findings if f.schedule_id == first and f.kind != "data-race"]
kinds.append("data-race")
print(json.dumps({{"kinds": kinds, "report": result.report()}}))
"""

PASTE_PYTHON = """
import json, interleave
from scn import {factory}
run = {line}
print(json.dumps([f.kind for f in run.findings]))
"""


def _python(code: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(cwd)}
    return subprocess.run(
        [sys.executable, "-c", code], cwd=cwd, env=env, capture_output=True, text=True, timeout=300
    )


def _lines(report: str) -> dict[str, str]:
    """The replay lines of the report's first finding: {"python": ..., "pytest": ..., ...}."""
    lines = {}
    for line in report.splitlines():
        for kind in ("python", "pytest", "shell"):
            if line.startswith(f"  {kind}:") and kind not in lines:
                lines[kind] = line.split(":", 1)[1].strip()
    return lines


@pytest.fixture(scope="module", params=sorted(CASES))
def explored(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> tuple[str, Path, list[str], dict[str, str]]:
    """(case, directory of scn.py, finding kinds, replay lines) of one exploration."""
    case = request.param
    factory, options = CASES[case]
    folder = tmp_path_factory.mktemp(case)
    (folder / "scn.py").write_text(SCENARIOS, encoding="utf-8")
    (folder / "scn_factories.py").write_text(FACTORIES, encoding="utf-8")
    done = _python(EXPLORE.format(factory=factory, options=options), folder)
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert "lost-update" in data["kinds"], data["report"]
    return case, folder, data["kinds"], _lines(data["report"])


def test_the_python_line_replays_the_finding(
    explored: tuple[str, Path, list[str], dict[str, str]],
) -> None:
    case, folder, kinds, lines = explored
    factory = CASES[case][0]
    assert lines["python"].startswith(f"interleave.replay({factory}, '2-")
    assert "=" not in lines["python"].split("'")[2]  # no options: the ID carries them

    done = _python(PASTE_PYTHON.format(factory=factory, line=lines["python"]), folder)

    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == kinds


def test_the_shell_line_replays_the_finding(
    explored: tuple[str, Path, list[str], dict[str, str]],
) -> None:
    _, folder, kinds, lines = explored
    command = shlex.split(lines["shell"])
    assert command[:2] == ["interleave", "replay"]
    assert len(command) == 4  # TARGET and ID, no options

    done = subprocess.run(
        [sys.executable, "-m", "interleave", *command[1:]],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=300,
    )

    assert done.returncode == 1, done.stderr  # 1: findings
    first = done.stdout.splitlines()[0]
    assert f"with {command[3]}: " in first
    assert first.endswith("findings: " + ", ".join(f"1 {kind}" for kind in kinds))


def _project(pytester: pytest.Pytester, call: str) -> None:
    # The scenario in a module of its own: classes of test modules are not traced.
    pytester.makeini("[pytest]\naddopts = -p no:hypothesispytest\n")
    pytester.makepyfile(scn=SCENARIOS, scn_factories=FACTORIES)
    pytester.makepyfile(
        test_scn=f"from scn import *\n\n\ndef test_race(interleavings):\n"
        f"    interleavings.explore({call})\n"
    )


def test_the_pytest_line_replays_the_finding(
    explored: tuple[str, Path, list[str], dict[str, str]], pytester: pytest.Pytester
) -> None:
    # The line printed by a Python exploration names NODEID: the test that runs the scenario,
    # here without the exploration's options (the ID brings them).
    case, _, kinds, lines = explored
    _project(pytester, CASES[case][0])
    command = shlex.split(lines["pytest"].replace("NODEID", "test_scn.py::test_race"))
    assert command[0] == "pytest"

    result = pytester.runpytest_subprocess(*command[1:])

    result.assert_outcomes(failed=1)
    schedule_id = command[-1].split("=", 1)[1]
    out = result.stdout.str()
    assert f"interleave: replayed {schedule_id} instead of exploring" in out
    assert f"findings: {', '.join(f'1 {kind}' for kind in kinds)}" in out


def test_the_pytest_line_of_a_pytest_run_replays_the_finding(
    explored: tuple[str, Path, list[str], dict[str, str]], pytester: pytest.Pytester
) -> None:
    case, _, kinds, _ = explored
    factory, options = CASES[case]
    _project(pytester, f"{factory}, {options}")
    explored_run = pytester.runpytest_subprocess()
    explored_run.assert_outcomes(failed=1)
    # The last line of the failure: "E   pytest test_scn.py::test_race --interleave-replay=ID".
    printed = re.findall(
        r"^E +(pytest test_scn\.py::test_race --interleave-replay=\S+)$",
        explored_run.stdout.str(),
        re.MULTILINE,
    )
    assert printed

    result = pytester.runpytest_subprocess(*shlex.split(printed[-1])[1:])

    result.assert_outcomes(failed=1)
    out = result.stdout.str()
    assert "instead of exploring (--interleave-replay)" in out
    assert f"findings: {', '.join(f'1 {kind}' for kind in kinds)}" in out


def test_a_factory_no_module_names_gets_its_own_name_and_says_so() -> None:
    # A local function: its own name works where it was defined, and the line says that no
    # module binds it (so no shell line either: nothing to import).
    import interleave

    def local_race() -> interleave.Scenario:
        hits = interleave.Shared("hits", 0)

        def hit() -> None:
            hits.set(hits.get() + 1)

        return interleave.Scenario(threads=[hit, hit], check=lambda: hits.get() == 2)

    result = interleave.explore(local_race, database=None)
    lines = _lines(result.report())
    assert result.target is None
    assert lines["python"].startswith("interleave.replay(local_race, '2-")
    assert lines["python"].endswith(
        "# local_race: the scenario factory explored (no module-level name)"
    )
    assert "shell" not in lines
    run = eval(
        lines["python"].split("  #")[0], {"interleave": interleave, "local_race": local_race}
    )
    assert "lost-update" in {f.kind for f in run.findings}


def test_code_run_from_a_string_gets_no_shell_line(tmp_path: Path) -> None:
    code = textwrap.dedent(SCENARIOS) + textwrap.dedent(
        """
        result = interleave.explore(made_race, database=None)
        print(result.target)
        print(result.report())
        """
    )
    (tmp_path / "scn_factories.py").write_text(FACTORIES, encoding="utf-8")
    done = _python(code, tmp_path)
    assert done.returncode == 0, done.stderr
    # ``interleave replay '<string>:made_race'`` could not work: no target, no shell line.
    assert done.stdout.splitlines()[0] == "None"
    lines = _lines(done.stdout)
    assert "shell" not in lines
    assert lines["python"].endswith("(no module-level name)")


def test_the_lines_of_a_search_without_race_detection_replay_without_it() -> None:
    # An ID records what shapes an execution, not the detectors: the lines turn data races
    # off too, so the replay reports what the search reported (no races it never looked for).
    import litmus

    import interleave

    result = interleave.explore(litmus.increments_3x2, detect_data_races=False, database=None)
    first = result.findings[0].schedule_id
    kinds = sorted(f.kind for f in result.findings if f.schedule_id == first)
    assert "data-race" not in kinds
    lines = _lines(result.report())
    assert lines["python"].endswith(", detect_data_races=False)")
    assert lines["shell"].endswith(" --no-detect-data-races")
    run = eval(lines["python"], {"interleave": interleave, "increments_3x2": litmus.increments_3x2})
    assert sorted(f.kind for f in run.findings) == kinds
    benchmarks = Path(litmus.__file__).parent
    done = subprocess.run(
        [sys.executable, "-m", "interleave", *shlex.split(lines["shell"])[1:]],
        cwd=benchmarks,
        env={**os.environ, "PYTHONPATH": str(benchmarks)},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 1, done.stderr
    assert "data-race" not in done.stdout and "lost-update" in done.stdout
