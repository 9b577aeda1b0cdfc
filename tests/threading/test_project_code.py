"""What is project code: decided from where the scenario and its code live, not from the cwd.

Attribute tracing (``trace_attributes=True``, ``watch()``) and the swap of module-level locks
look only at project code. These tests run real processes from other working directories
(a subfolder of the project, ``/``), with the scenario installed in a ``site-packages``
directory or in a ``pip install --target`` one, and with a library that needs ``project=``.
"""

from __future__ import annotations

import functools
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import interleave
from interleave.instrument._project import Project, is_interleave_file, scenario_project

COUNTER_APP = """
import interleave


class HitCounter:
    def __init__(self):
        self.count = 0

    def hit(self):
        self.count += 1


def hits():
    counter = HitCounter()
    return interleave.Scenario(
        threads=[counter.hit, counter.hit], check=lambda: counter.count == 2
    )
"""

LOCKS_APP = """
import threading
import time

import interleave

LOCK_A = threading.Lock()
LOCK_B = threading.Lock()


def a_then_b():
    with LOCK_A:
        time.sleep(0)
        with LOCK_B:
            pass


def b_then_a():
    with LOCK_B, LOCK_A:
        pass


def abba():
    return interleave.Scenario(threads=[a_then_b, b_then_a])
"""


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def _run(script: str, cwd: Path | str, *path_entries: Path) -> dict[str, object]:
    """Run ``script`` in a fresh interpreter in ``cwd``; it prints one JSON object."""
    code = "\n".join(
        [
            "import json, sys, warnings",
            *(f"sys.path.append({str(p)!r})" for p in path_entries),
            "warnings.simplefilter('error')",  # a health-check warning fails the run
            "import interleave",
            textwrap.dedent(script),
        ]
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=cwd, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


_KINDS = "print(json.dumps({'kinds': sorted({f.kind for f in result.findings})}))"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """``project/app`` holds the scenarios; ``project/tests`` is an empty subfolder."""
    root = tmp_path / "project"
    _write(root / "app" / "counter_app.py", COUNTER_APP)
    _write(root / "app" / "locks_app.py", LOCKS_APP)
    (root / "tests").mkdir()
    return root


# ------------------------------------------------------------------ outside the cwd
@pytest.mark.parametrize("where", ["subfolder", "root"])
def test_trace_attributes_finds_the_lost_update_outside_the_working_directory(
    project: Path, where: str
) -> None:
    cwd = project / "tests" if where == "subfolder" else Path("/")
    found = _run(
        "import counter_app\n"
        "result = interleave.explore(counter_app.hits, trace_attributes=True)\n" + _KINDS,
        cwd,
        project / "app",
    )
    assert found["kinds"] == ["data-race", "invariant", "lost-update"]


def test_an_explicit_watch_traces_the_class_from_the_root(project: Path) -> None:
    found = _run(
        "import counter_app\n"
        "interleave.watch(counter_app.HitCounter)\n"
        "result = interleave.explore(counter_app.hits)\n" + _KINDS,
        "/",
        project / "app",
    )
    assert found["kinds"] == ["data-race", "invariant", "lost-update"]


def test_module_lock_abba_is_found_from_a_subfolder(project: Path) -> None:
    found = _run(
        "import locks_app\nresult = interleave.explore(locks_app.abba)\n" + _KINDS,
        project / "tests",
        project / "app",
    )
    assert found["kinds"] == ["deadlock"]


# ------------------------------------------------------------------ installed scenarios
def test_a_scenario_installed_in_site_packages_is_project_code(tmp_path: Path) -> None:
    site_packages = tmp_path / "lib" / "python3" / "site-packages"
    _write(site_packages / "counter_pkg" / "__init__.py", "")
    _write(site_packages / "counter_pkg" / "scenarios.py", COUNTER_APP)
    found = _run(
        "from counter_pkg import scenarios\n"
        "result = interleave.explore(scenarios.hits, trace_attributes=True)\n" + _KINDS,
        "/",
        site_packages,
    )
    assert found["kinds"] == ["data-race", "invariant", "lost-update"]


def _install_target(target: Path, package: str, files: dict[str, str]) -> None:
    """What ``pip install --target`` leaves: the package and a dist-info whose RECORD lists it."""
    record = []
    for name, text in files.items():
        _write(target / package / name, text)
        record.append(f"{package}/{name},,")
    info = target / f"{package}-1.0.dist-info"
    _write(info / "METADATA", f"Metadata-Version: 2.1\nName: {package}\nVersion: 1.0\n")
    _write(info / "RECORD", "\n".join([*record, f"{info.name}/RECORD,,", ""]))


def test_a_scenario_installed_with_pip_target_is_project_code(tmp_path: Path) -> None:
    target = tmp_path / "vendor"
    _install_target(target, "counter_pkg", {"__init__.py": COUNTER_APP})
    found = _run(
        "import counter_pkg\n"
        "result = interleave.explore(counter_pkg.hits, trace_attributes=True)\n" + _KINDS,
        "/",
        target,
    )
    assert found["kinds"] == ["data-race", "invariant", "lost-update"]


# ------------------------------------------------------------------ project=
TALLY_LIB = """
class Tally:
    def __init__(self):
        self.n = 0

    def add(self):
        self.n += 1
"""

#: Code of the library that touches a Tally from outside the class's own module.
TALLY_OPS = """
def bump(tally):
    tally.n += 1
"""

TALLY_FILES = {"__init__.py": TALLY_LIB, "ops.py": TALLY_OPS}

TALLY_SCENARIO = """
import interleave
import tallylib
from tallylib import ops

interleave.watch(tallylib.Tally)


def tallies():
    tally = tallylib.Tally()

    def bump():
        ops.bump(tally)

    return interleave.Scenario(threads=[bump, bump], check=lambda: tally.n == 2)


def own_methods():
    tally = tallylib.Tally()
    return interleave.Scenario(threads=[tally.add, tally.add], check=lambda: tally.n == 2)
"""


def test_an_explicit_watch_traces_the_classs_own_code_wherever_it_lives(tmp_path: Path) -> None:
    target = tmp_path / "vendor"
    _install_target(target, "tallylib", TALLY_FILES)
    _write(tmp_path / "app" / "tally_app.py", TALLY_SCENARIO)
    found = _run(
        "import tally_app\nresult = interleave.explore(tally_app.own_methods)\n" + _KINDS,
        "/",
        target,
        tmp_path / "app",
    )
    assert found["kinds"] == ["data-race", "invariant", "lost-update"]


def test_trace_attributes_on_an_installed_class_needs_project(tmp_path: Path) -> None:
    target = tmp_path / "vendor"
    _install_target(target, "tallylib", TALLY_FILES)
    _write(tmp_path / "app" / "tally_app.py", TALLY_SCENARIO.replace("interleave.watch", "id"))
    found = _run(
        """
        import tally_app
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            plain = interleave.explore(tally_app.own_methods, trace_attributes=True)
        result = interleave.explore(
            tally_app.own_methods, trace_attributes=True, project="tallylib"
        )
        print(json.dumps({
            "plain": [plain.ok, [str(w.message.check) for w in caught]],
            "kinds": sorted({f.kind for f in result.findings}),
        }))
        """,
        "/",
        target,
        tmp_path / "app",
    )
    assert found["plain"] == [True, ["HealthCheck.nothing_traced"]]
    assert found["kinds"] == ["data-race", "invariant", "lost-update"]


def test_project_names_an_installed_library_whose_code_makes_the_accesses(
    tmp_path: Path,
) -> None:
    target = tmp_path / "vendor"
    _install_target(target, "tallylib", TALLY_FILES)
    _write(tmp_path / "app" / "tally_app.py", TALLY_SCENARIO)
    found = _run(
        """
        import tally_app
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            plain = interleave.explore(tally_app.tallies)
        result = interleave.explore(tally_app.tallies, project=["tallylib"])
        replayed = interleave.replay(
            tally_app.tallies, result.findings[0].schedule_id, project=["tallylib"]
        )
        print(json.dumps({
            "plain": [plain.ok, [str(w.message.check) for w in caught]],
            "kinds": sorted({f.kind for f in result.findings}),
            "replayed": sorted({f.kind for f in replayed.findings}),
        }))
        """,
        "/",
        target,
        tmp_path / "app",
    )
    # Without project=: watched, but accessed only from the library: a health warning.
    assert found["plain"] == [True, ["HealthCheck.watched_class_untraced"]]
    assert found["kinds"] == found["replayed"] == ["data-race", "invariant", "lost-update"]


def test_project_accepts_paths_and_pathlike(tmp_path: Path) -> None:
    target = tmp_path / "vendor"
    _install_target(target, "tallylib", TALLY_FILES)
    _write(tmp_path / "app" / "tally_app.py", TALLY_SCENARIO)
    found = _run(
        f"""
        import pathlib
        import tally_app
        by_path = interleave.explore(tally_app.tallies, project={str(target / "tallylib")!r})
        lib = pathlib.Path({str(target / "tallylib" / "ops.py")!r})
        by_file = interleave.explore(tally_app.tallies, project=[lib])
        print(json.dumps({{"kinds": [by_path.ok, by_file.ok]}}))
        """,
        "/",
        target,
        tmp_path / "app",
    )
    assert found["kinds"] == [False, False]


# ------------------------------------------------------------------ pytest from tests/
def test_pytest_run_from_tests_traces_the_test_modules_own_class(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    tests = pytester.mkdir("tests")
    _write(
        tests / "test_counter.py",
        COUNTER_APP
        + """

def test_hits(interleavings):
    interleavings.explore(hits, trace_attributes=True)
""",
    )
    monkeypatch.chdir(tests)
    result = pytester.runpytest_inprocess("test_counter.py", "-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*Finding 1 of 3: lost-update*", "*attr 'HitCounter#1.count'*"])


def test_the_interleave_project_option_and_ini_key_reach_explore(
    pytester: pytest.Pytester, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "vendor"
    _install_target(target, "tallylib", TALLY_FILES)
    pytester.makepyfile(
        test_tally=TALLY_SCENARIO
        + """

def test_tallies(interleavings):
    interleavings.explore(tallies)
"""
    )
    pytester.makeini("[pytest]\nfilterwarnings = error\naddopts = -p no:hypothesispytest\n")
    monkeypatch.syspath_prepend(target)
    # Without the option: the class is watched but never traced: the warning is an error.
    plain = pytester.runpytest_inprocess("-p", "no:cacheprovider")
    plain.assert_outcomes(failed=1)
    plain.stdout.fnmatch_lines(["*HealthCheckWarning*watched class(es) tallylib.Tally*"])
    # With it, the lost update is found (and the test fails on it).
    given = pytester.runpytest_inprocess("-p", "no:cacheprovider", "--interleave-project=tallylib")
    given.assert_outcomes(failed=1)
    given.stdout.fnmatch_lines(["*Finding 1 of 3: lost-update*", "*attr 'Tally#1.n'*"])
    pytester.makeini(
        "[pytest]\nfilterwarnings = error\naddopts = -p no:hypothesispytest\n"
        "interleave_project = tallylib\n"
    )
    from_ini = pytester.runpytest_inprocess("-p", "no:cacheprovider")
    from_ini.assert_outcomes(failed=1)
    from_ini.stdout.fnmatch_lines(["*Finding 1 of 3: lost-update*", "*attr 'Tally#1.n'*"])


def test_the_cli_project_option_reaches_explore_and_replay(tmp_path: Path) -> None:
    target = tmp_path / "vendor"
    _install_target(target, "tallylib", TALLY_FILES)
    app = _write(tmp_path / "app" / "tally_app.py", TALLY_SCENARIO)
    env = {**os.environ, "PYTHONPATH": str(target)}
    cli = [sys.executable, "-m", "interleave"]
    explored = subprocess.run(
        [*cli, "explore", f"{app}:tallies", "--project", "tallylib"],
        cwd="/",
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert explored.returncode == 1, explored.stderr
    assert "lost-update" in explored.stdout
    schedule_id = explored.stdout.split("schedule ID: ", 1)[1].split()[0]
    replayed = subprocess.run(
        [*cli, "replay", f"{app}:tallies", schedule_id, "--project", "tallylib"],
        cwd="/",
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert replayed.returncode == 1, replayed.stderr
    assert "lost-update" in replayed.stdout


# ------------------------------------------------------------------ the rule itself
def _scenario() -> interleave.Scenario:  # pragma: no cover - never run
    return interleave.Scenario(threads=[])


def test_the_factorys_module_and_package_are_roots() -> None:
    project = scenario_project(_scenario)
    tests_dir = Path(__file__).resolve().parent
    assert str(Path(__file__).resolve()) in project.roots
    assert project.contains_file(__file__)
    assert project.contains_file(str(tests_dir / "programs" / "counter.py"))
    # Wrapping the factory changes nothing.
    assert scenario_project(functools.partial(_scenario)) is project


def test_the_standard_library_site_packages_and_interleave_are_not_project_code() -> None:
    project = scenario_project(_scenario)
    assert not project.contains_file(functools.__file__)
    assert not project.contains_file(pytest.__file__)
    assert not project.contains_file(interleave.__file__)
    assert not project.contains_file("<frozen importlib._bootstrap>")
    assert project.contains_file("<string>")  # exec'd code is the user's


def test_a_dist_info_record_marks_a_directory_as_installed(tmp_path: Path) -> None:
    target = tmp_path / "vendor"
    _install_target(target, "claimedlib", {"__init__.py": TALLY_LIB})
    _write(target / "unclaimed" / "__init__.py", TALLY_LIB)
    sys.path.append(str(target))
    try:
        project = Project()
        assert not project.contains_file(str(target / "claimedlib" / "__init__.py"))
        assert project.contains_file(str(target / "unclaimed" / "__init__.py"))
    finally:
        sys.path.remove(str(target))


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("no_such_module_anywhere", "neither an importable package"),
        ([3], "must be package names or paths"),
        (42, "must be a package name, a path, or a list"),
        ("interleave", "names interleave itself"),
    ],
)
def test_bad_project_entries_are_rejected_up_front(value: object, message: str) -> None:
    with pytest.raises(interleave.InvalidArgument, match=message):
        interleave.explore(_scenario, project=value)  # type: ignore[arg-type]


def test_interleave_files_are_recognised() -> None:
    assert is_interleave_file(str(Path(interleave.__file__).resolve()))
    assert not is_interleave_file(__file__)
