"""The command line's generated flags, ``--format json`` and its schedule database.

Every option of :class:`interleave.ExploreSettings` is a flag of ``explore`` and ``report``
(and the options of one execution are flags of ``replay``); ``--format json`` prints the
result's ``to_dict()``; ``explore`` and ``report`` keep failing schedules in ``.interleave/``
(``--database DIR``, ``--no-database``) and replay them first.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import interleave
from interleave._cli import _options, main
from interleave._cli._options import flag

RACES = """
import interleave


def lost_update():
    hits = interleave.Shared("hits", 0)

    def worker():
        hits.set(hits.get() + 1)

    return interleave.Scenario(threads=[worker, worker], check=lambda: hits.get() == 2)


def race():
    flag = interleave.Shared("flag", False, racy=True)  # the check judges the order
    seen = []

    def writer():
        flag.set(True)

    def reader():
        seen.append(flag.get())

    return interleave.Scenario(threads=[writer, reader], check=lambda: seen == [True])


def needs_arguments(accounts, amount=3):
    return lost_update()


DEMO = [lost_update, needs_arguments]
"""

#: ``race`` with the check fixed: the same steps, both orders accepted.
FIXED = RACES.replace("check=lambda: seen == [True]", "check=lambda: len(seen) == 1")


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    (tmp_path / "races.py").write_text(RACES, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", list(sys.path))
    before = set(sys.modules)
    yield
    for name in set(sys.modules) - before:
        if name.startswith(("_interleave_target_", "clidemo")):
            del sys.modules[name]


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def as_json(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, Any]:
    status, out, err = run(capsys, *argv, "--format", "json")
    assert err == "", err
    return status, json.loads(out)


# ------------------------------------------------------------------------------------ flags


def test_every_option_of_the_settings_is_a_flag_of_explore_and_report(
    capsys: pytest.CaptureFixture[str],
) -> None:
    for command in ("explore", "report"):
        _, out, _ = run(capsys, command, "--help")
        for name in interleave.ExploreSettings.option_names():
            assert flag(name) in out, (command, name)
    _, out, _ = run(capsys, "explore", "--help")
    for expected in ("--no-patch-threading", "--no-patch-sqlite", "--no-minimise"):
        assert expected in out
    _, out, _ = run(capsys, "replay", "--help")
    for name in interleave.ExploreSettings.REPLAY_OPTIONS:
        assert flag(name) in out
    assert "--max-schedules" not in out  # a replay runs one execution
    assert "(default: as the ID recorded)" in out


def test_the_flags_reach_the_settings(capsys: pytest.CaptureFixture[str]) -> None:
    status, data = as_json(
        capsys,
        "explore",
        "races.py:lost_update",
        "--no-database",
        "--strategy",
        "dfs",
        "--preemption-bound",
        "1",
        "--trace-attributes",
        "--watchdog",
        "30",
        "--no-patch-threading",
        "--no-patch-sqlite",
        "--no-minimise",
        "--max-steps",
        "77",
        "--suppress-health-check",
        "single_schedule,single_step",
        "--suppress-health-check",
        "nothing_traced",
    )
    assert status == 1
    settings = data["settings"]
    assert settings["strategy"] == "dfs"
    assert settings["preemption_bound"] == 1
    assert settings["trace_attributes"] is True
    assert settings["watchdog"] == 30.0
    assert settings["patch_threading"] is False and settings["patch_sqlite"] is False
    assert settings["minimise"] is False
    assert settings["max_steps"] == 77
    assert settings["suppress_health_check"] == [
        "nothing_traced",
        "single_schedule",
        "single_step",
    ]
    status, data = as_json(
        capsys,
        "explore",
        "races.py:lost_update",
        "--no-database",
        "--strategy",
        "pct",
        "--depth",
        "2",
        "--seed",
        "4",
        "--max-schedules",
        "20",
    )
    assert (data["settings"]["depth"], data["settings"]["seed"]) == (2, 4)
    iterative = ["--preemption-bound", "iterative"]
    status, data = as_json(capsys, "explore", "races.py:lost_update", "--no-database", *iterative)
    assert data["settings"]["preemption_bound"] == "iterative"


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        (["--preemption-bound", "lots"], "--preemption-bound: preemption_bound='lots' must be"),
        (["--depth", "0"], "--depth: depth=0 must be an int of at least 1"),
        (["--watchdog", "-1"], "--watchdog: watchdog=-1.0 must be a number of seconds"),
        (["--suppress-health-check", "nope"], "--suppress-health-check: suppress_health_check="),
    ],
)
def test_bad_values_name_their_flag(
    capsys: pytest.CaptureFixture[str], options: list[str], expected: str
) -> None:
    status, out, err = run(capsys, "explore", "races.py:lost_update", *options)
    assert (status, out) == (2, "")
    assert err.startswith(f"interleave: error: {expected}"), err
    assert len(err.splitlines()) == 1


def test_replay_flags_override_what_the_id_recorded(capsys: pytest.CaptureFixture[str]) -> None:
    _, data = as_json(capsys, "explore", "races.py:lost_update", "--no-database")
    schedule_id = data["findings"][0]["schedule_id"]
    status, run_data = as_json(capsys, "replay", "races.py:lost_update", schedule_id)
    assert status == 1
    assert [f["kind"] for f in run_data["findings"]] == ["lost-update", "invariant", "data-race"]
    # One step per thread: the replay stops at a step limit, where the ID recorded more steps.
    status, _, err = run(capsys, "replay", "races.py:lost_update", schedule_id, "--max-steps", "1")
    assert status == 2
    assert "max_steps=1 (the ID recorded 10000)" in err
    status, _, err = run(
        capsys, "replay", "races.py:lost_update", schedule_id, "--no-patch-threading"
    )
    assert (status, err) == (1, "")


def test_a_factory_that_takes_arguments_is_a_one_line_usage_error(
    capsys: pytest.CaptureFixture[str],
) -> None:
    for argv in (
        ["explore", "races.py:needs_arguments"],
        ["replay", "races.py:needs_arguments", "2-kAQEAAEKChoaAAGm"],
        ["report", "races.py"],
    ):
        status, out, err = run(capsys, *argv)
        assert (status, out) == (2, ""), argv
        [line] = err.splitlines()
        assert line.startswith("interleave: error: 'races.py:needs_arguments' takes arguments ")
        assert "(accounts)" in line
        assert "def scenario(): return needs_arguments(...)" in line


# ------------------------------------------------------------------------------------- json


def test_explore_json_is_the_results_dict(capsys: pytest.CaptureFixture[str]) -> None:
    status, data = as_json(capsys, "explore", "races.py:lost_update")
    assert status == 1
    assert data == json.loads(json.dumps(data))
    assert data["kind"] == "exploration"
    assert data["target"] == "races.py:lost_update"
    assert data["verdict"] == "proved"
    assert {f["kind"] for f in data["findings"]} == {"lost-update", "invariant", "data-race"}


def test_report_json_is_the_summary_with_every_result(capsys: pytest.CaptureFixture[str]) -> None:
    # A summary document, as docs/reference/json.md says (it was a bare list, which the schema
    # does not describe), with each exploration's own document under "results".
    status, data = as_json(capsys, "report", "races.py:lost_update", "races.py:race")
    assert status == 1
    assert data["kind"] == "summary"
    assert [row["target"] for row in data["explorations"]] == [
        "races.py:lost_update",
        "races.py:race",
    ]
    assert [d["target"] for d in data["results"]] == ["races.py:lost_update", "races.py:race"]
    assert all(d["kind"] == "exploration" for d in data["results"])
    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads(
        (Path(interleave.__file__).parent / "_report" / "schema.json").read_text("utf-8")
    )
    jsonschema.validate(data, schema)


def test_json_goes_through_a_pipe_to_a_json_reader(tmp_path: Path) -> None:
    # The issue's own check: interleave explore ... --format json | python -c "json.load(...)"
    explore = subprocess.run(
        [sys.executable, "-m", "interleave", "explore", "races.py:lost_update", "--format", "json"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        check=False,
    )
    assert explore.returncode == 1, explore.stderr
    check = subprocess.run(
        [sys.executable, "-c", "import json, sys; print(json.load(sys.stdin)['verdict'])"],
        input=explore.stdout,
        capture_output=True,
        text=True,
        check=True,
    )
    assert check.stdout.strip() == "proved"


# --------------------------------------------------------------------------------- database


def test_explore_saves_failures_in_dot_interleave_and_replays_them_first(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    status, first, _ = run(capsys, "explore", "races.py:race")
    assert status == 1
    assert "replayed first" not in first
    database = tmp_path / ".interleave"
    assert database.is_dir()
    assert (database / ".gitignore").read_text().splitlines()[-1] == "*"
    [schedule_id] = {line.split()[-1] for line in first.splitlines() if "schedule ID:" in line}

    status, again, err = run(capsys, "explore", "races.py:race")
    assert (status, err) == (1, "")
    assert "schedules run  0 (and 1 saved schedule(s) replayed first)\n" in again
    assert "stopped after reproducing failures an earlier run saved" in again
    assert "replayed first: 1 failing schedule(s) saved in .interleave/ by an earlier run" in again
    assert f"  {schedule_id}: still fails" in again
    assert "--no-database to explore from scratch" in again

    # The fix: the saved schedule replays and passes, is deleted, and the search runs.
    (tmp_path / "races.py").write_text(FIXED, encoding="utf-8")
    status, fixed, _ = run(capsys, "explore", "races.py:race")
    assert status == 0
    assert f"  {schedule_id}: passes now: deleted" in fixed
    assert "exhausted: every schedule was explored" in fixed
    status, after, _ = run(capsys, "explore", "races.py:race")
    assert (status, "replayed first" in after) == (0, False)


def test_the_same_file_typed_two_ways_is_one_entry(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    run(capsys, "explore", "races.py:race")
    status, again, _ = run(capsys, "explore", f"{tmp_path}/races.py:race")
    assert status == 1
    assert "still fails" in again


def test_database_dir_and_no_database(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    run(capsys, "explore", "races.py:race", "--database", "elsewhere")
    assert (tmp_path / "elsewhere").is_dir() and not (tmp_path / ".interleave").exists()
    _, again, _ = run(capsys, "explore", "races.py:race", "--database", "elsewhere")
    assert "still fails" in again
    _, fresh, _ = run(capsys, "explore", "races.py:race", "--no-database")
    assert "replayed first" not in fresh and "exhausted: every schedule" in fresh
    assert not (tmp_path / ".interleave").exists()
    status, _, err = run(capsys, "explore", "races.py:race", "--no-database", "--database", "x")
    assert status == 2
    assert "not allowed with argument" in err


def test_report_uses_the_database_too(capsys: pytest.CaptureFixture[str]) -> None:
    run(capsys, "report", "races.py:race", "races.py:lost_update")
    status, out, _ = run(capsys, "report", "races.py:race", "races.py:lost_update")
    assert status == 1
    assert "NO (reproduced)" in out
    assert "2 exploration(s) stopped at failing schedules saved in .interleave/" in out


def test_the_default_database_is_relative_to_the_working_directory() -> None:
    assert Path(".interleave") == _options.DEFAULT_DATABASE


# ------------------------------------------------------------------------------------- demo


def test_demo_takes_a_package_of_examples_from_its_demo_list(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    examples = tmp_path / "ex"
    package = examples / "clidemo_suite"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text('"""A suite."""\n', encoding="utf-8")
    (package / "cases.py").write_text(
        '"""Two cases of a suite of examples."""\n'
        + RACES.replace("DEMO = [lost_update, needs_arguments]", "DEMO = [race, lost_update]"),
        encoding="utf-8",
    )
    (package / "helpers.py").write_text("raise SystemExit('never imported')\n", "utf-8")
    status, out, err = run(capsys, "demo", "--dir", str(examples))
    assert (status, err) == (0, ""), err
    assert out.splitlines()[0].endswith(" and the suite in clidemo_suite/")
    assert "clidemo_suite: 2 scenarios (ex/clidemo_suite/cases.py)" in out
    assert "2 explorations, 2 with findings" in out
    # Its replay lines name the module by a dotted name that works from here.
    assert "  replay: interleave replay ex.clidemo_suite.cases:race 2-" in out
    assert "with findings:    2 clidemo_suite scenarios" in out
