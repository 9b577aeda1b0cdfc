"""The command line: ``interleave explore``, ``replay`` and ``demo``, their exit status (0 no
findings, 1 findings, 2 could not run) and their one-line errors.

Most tests call ``main([...])`` in-process; one runs ``python -m interleave`` as a subprocess.
"""

from __future__ import annotations

import io
import re
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import interleave
from interleave import _api
from interleave._cli import ProgressBar, _console, _main, _options, main
from interleave._core._native import compiled
from interleave._core._schedule import Schedule
from interleave._engine import _settings

ROOT = Path(__file__).resolve().parents[2]

RACY = """
from collections.abc import Callable

import interleave
from interleave._core._native import compiled

def lost_update():
    hits = interleave.Shared("hits", 0)

    def worker():
        hits.set(hits.get() + 1)

    return interleave.Scenario(threads=[worker, worker], check=lambda: hits.get() == 2)

def locked():
    hits = interleave.Shared("hits", 0)
    lock = interleave.Lock(name="hits-lock")

    def worker():
        with lock:
            hits.set(hits.get() + 1)

    return interleave.Scenario(threads=[worker, worker], check=lambda: hits.get() == 2)

def boom():
    raise RuntimeError("boom in the factory")

def returns_int():
    return 3

NOT_A_FUNCTION = [1, 2]
SCENARIO = interleave.Scenario(threads=[print])
Factory = Callable[[], interleave.Scenario]

class Settings:
    pass

if __name__ == "__main__":
    raise SystemExit("the CLI must not run the __main__ block")
"""


@pytest.fixture(autouse=True)
def _isolated_imports(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    # The CLI puts folders on sys.path and registers the modules it loads; undo both.
    monkeypatch.setattr(sys, "path", list(sys.path))
    before = set(sys.modules)
    yield
    for name in set(sys.modules) - before:
        if name.startswith(("_interleave_target_", "clitarget_")):
            del sys.modules[name]


@pytest.fixture(autouse=True)
def _database_in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # explore and report keep failing schedules in ./.interleave by default: the tests that
    # run from the repository (its examples) must not leave one there.
    monkeypatch.setattr(_options, "DEFAULT_DATABASE", tmp_path / ".interleave")


@pytest.fixture
def racy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A scenario file in a fresh working directory; returns its name relative to it."""
    (tmp_path / "races.py").write_text(RACY, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    return "races.py"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def one_line_error(err: str) -> str:
    """The single error line, checked to be the whole of stderr."""
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("interleave: error: "), err
    assert "Traceback" not in err
    return lines[0]


def replay_ids(text: str) -> list[str]:
    return re.findall(r"^schedule ID: (\S+)$", text, flags=re.MULTILINE)


def step_table(text: str) -> str:
    """The interleaving diagram (from its header row to the first blank line)."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("step "))
    end = next((i for i in range(start, len(lines)) if not lines[i].strip()), len(lines))
    return "\n".join(lines[start:end])


# ------------------------------------------------------------------------------- help, version


def test_python_dash_m_interleave_help_runs_as_a_subprocess() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "interleave", "--help"],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("usage: interleave ")
    for command in ("explore", "replay", "demo"):
        assert command in done.stdout
    assert "interleave explore examples/bank_transfer.py:unlocked" in done.stdout


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(capsys, "--version")
    assert status == 0
    core = "compiled core" if compiled() else "plain-Python core"
    assert out.strip() == f"interleave {interleave.__version__} ({core})"


@pytest.mark.parametrize("command", ["explore", "replay", "demo"])
def test_each_command_help_shows_examples(capsys: pytest.CaptureFixture[str], command: str) -> None:
    status, out, _ = run(capsys, command, "--help")
    assert status == 0
    assert f"usage: interleave {command}" in out
    examples = out[out.index("examples:") :]
    assert f"  interleave {command}" in examples
    assert "exit status:" in out


def test_explore_help_lists_every_strategy_read_at_runtime(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_settings, "STRATEGIES", (*_settings.STRATEGIES, "brand-new"))
    status, out, _ = run(capsys, "explore", "--help")
    assert status == 0
    for name in _settings.STRATEGIES:
        assert name in out


def test_no_command_is_a_one_line_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = run(capsys)
    assert status == 2
    assert out == ""
    line = one_line_error(err)
    assert "explore, replay, report, estimate, demo" in line


def test_unknown_command_and_bad_int_are_one_line_errors(
    capsys: pytest.CaptureFixture[str],
) -> None:
    status, _, err = run(capsys, "bogus")
    assert status == 2
    assert "invalid choice: 'bogus'" in one_line_error(err)
    status, _, err = run(capsys, "explore", "x.py:f", "--max-schedules", "many")
    assert status == 2
    line = one_line_error(err)
    assert "--max-schedules: invalid int value: 'many'" in line
    assert "interleave explore --help" in line


# -------------------------------------------------------------------------------- explore


def test_explore_with_findings_exits_1_and_prints_the_report(
    capsys: pytest.CaptureFixture[str], racy: str
) -> None:
    status, out, err = run(capsys, "explore", f"{racy}:lost_update")
    assert status == 1
    assert err == ""
    assert out.startswith("interleave: lost_update: 3 distinct finding(s)")
    assert "Finding 1 of 3: lost-update" in out
    assert "Finding 3 of 3: data-race" in out
    schedule_id = replay_ids(out)[0]
    # The replay line names the target exactly as it was typed.
    assert f"shell:   interleave replay {racy}:lost_update {schedule_id}" in out


def test_explore_without_findings_exits_0(capsys: pytest.CaptureFixture[str], racy: str) -> None:
    status, out, err = run(capsys, "explore", f"{racy}:locked")
    assert (status, err) == (0, "")
    assert out.startswith("interleave: locked: no findings")
    assert "exhausted: every schedule was explored" in out


def test_explore_does_not_run_the_files_main_block(
    capsys: pytest.CaptureFixture[str], racy: str
) -> None:
    # RACY ends with `if __name__ == "__main__": raise SystemExit(...)`.
    status, _, err = run(capsys, "explore", f"{racy}:locked")
    assert status == 0, err


def test_explore_a_dotted_module_importable_from_the_current_directory(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    package = tmp_path / "clitarget_pkg"
    package.mkdir()
    (package / "__init__.py").write_text("", encoding="utf-8")
    (package / "races.py").write_text(RACY, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", [p for p in sys.path if p not in ("", str(tmp_path))])
    status, out, _ = run(capsys, "explore", "clitarget_pkg.races:lost_update")
    assert status == 1
    assert "interleave replay clitarget_pkg.races:lost_update 2-" in out


def test_explore_options_reach_explore(capsys: pytest.CaptureFixture[str], racy: str) -> None:
    status, out, _ = run(
        capsys, "explore", f"{racy}:lost_update", "--stop-on-first", "--max-steps", "50"
    )
    assert status == 1
    assert "stopped at the first finding" in out
    status, out, _ = run(capsys, "explore", f"{racy}:locked", "--max-schedules", "1")
    assert status == 0
    assert "schedules run  1\n" in out
    assert "NOT exhausted" in out
    status, out, _ = run(capsys, "explore", f"{racy}:locked", "--timeout", "600")
    assert status == 0
    assert "exhausted: every schedule was explored" in out


def test_every_strategy_name_is_accepted(capsys: pytest.CaptureFixture[str], racy: str) -> None:
    for strategy in _api.STRATEGIES:
        status, out, err = run(
            capsys,
            "explore",
            f"{racy}:lost_update",
            "--strategy",
            strategy,
            "--max-schedules",
            "50",
            "--no-database",  # each strategy explores (no failure saved by the one before)
        )
        assert (status, err) == (1, ""), (strategy, err)
        assert "lost-update" in out


def test_random_strategy_with_a_seed(capsys: pytest.CaptureFixture[str], racy: str) -> None:
    args = ["explore", f"{racy}:lost_update", "--strategy", "random", "--seed", "7"]
    args += ["--max-schedules", "50", "--no-database"]
    first = run(capsys, *args)
    assert first[0] == 1
    assert "seed" in first[1]
    assert replay_ids(run(capsys, *args)[1]) == replay_ids(first[1])


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        (["--max-schedules", "0"], "--max-schedules: max_schedules=0 must be at least 1"),
        (["--max-steps", "-3"], "--max-steps: max_steps=-3 must be at least 1"),
        (["--strategy", "nope"], "--strategy: strategy='nope' is not one of "),
        (["--timeout", "0"], "--timeout: timeout=0.0 must be greater than 0 seconds"),
        (["--seed", "3", "--strategy", "dfs"], "--seed: seed=3 only applies to strategy="),
    ],
)
def test_invalid_option_values_reuse_explores_messages(
    capsys: pytest.CaptureFixture[str], racy: str, options: list[str], expected: str
) -> None:
    status, out, err = run(capsys, "explore", f"{racy}:lost_update", *options)
    assert status == 2
    assert out == ""
    assert expected in one_line_error(err)


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("missing.py:f", "file 'missing.py' does not exist (relative to "),
        ("races.py:nope", "'races.py' has no attribute 'nope'; its functions are: boom, locked,"),
        ("races.py:NOT_A_FUNCTION", "'races.py:NOT_A_FUNCTION' is a list, not a scenario factory"),
        ("races.py:SCENARIO", "'races.py:SCENARIO' is a Scenario, not a scenario factory"),
        (
            "races.py:Factory",
            "'races.py:Factory' is a type alias (collections.abc.Callable[[], "
            "interleave.Scenario]), not a scenario factory",
        ),
        (
            "races.py:Settings",
            "'races.py:Settings' is a class (calling it makes a Settings), not a scenario factory",
        ),
        ("races.py", "name the factory after a colon, e.g. races.py:my_scenario"),
        ("races.py:", "must be FILE.py:factory or module:factory"),
        ("no_such_module_x:f", "no module named 'no_such_module_x' importable from "),
        ("races.py:returns_int", "scenario factory returns_int() returned int (3)"),
    ],
)
def test_bad_targets_are_one_line_errors(
    capsys: pytest.CaptureFixture[str], racy: str, target: str, expected: str
) -> None:
    status, out, err = run(capsys, "explore", target)
    assert status == 2
    assert out == ""
    assert expected in one_line_error(err)


def test_a_factory_that_raises_shows_its_traceback_and_exits_2(
    capsys: pytest.CaptureFixture[str], racy: str
) -> None:
    status, out, err = run(capsys, "explore", f"{racy}:boom")
    assert status == 2
    assert out == ""
    assert "Traceback" in err
    assert 'raise RuntimeError("boom in the factory")' in err
    assert err.splitlines()[-1].startswith(
        "interleave: error: RuntimeError: boom in the factory (raised while loading or running"
    )


def test_a_missing_import_inside_the_target_keeps_its_traceback(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "clitarget_needs.py").write_text(
        "import clitarget_not_installed\n", encoding="utf-8"
    )
    monkeypatch.chdir(tmp_path)
    status, _, err = run(capsys, "explore", "clitarget_needs:f")
    assert status == 2
    assert "Traceback" in err
    assert "No module named 'clitarget_not_installed'" in err


# ---------------------------------------------------------------------------------- replay


def test_replay_of_an_id_printed_by_explore_reproduces_kinds_and_trace(
    capsys: pytest.CaptureFixture[str], racy: str
) -> None:
    _, explored, _ = run(capsys, "explore", f"{racy}:lost_update")
    schedule_id = replay_ids(explored)[0]  # the lost update's (its race shows in every one)
    status, replayed, err = run(capsys, "replay", f"{racy}:lost_update", schedule_id)
    assert (status, err) == (1, "")
    assert replayed.startswith(
        f"interleave: replay of lost_update with {schedule_id}: 4 steps, "
        "findings: 1 lost-update, 1 invariant"
    )
    assert step_table(replayed) == step_table(explored)
    assert "LOST UPDATE" in step_table(replayed)


def test_replay_of_a_clean_schedule_exits_0(capsys: pytest.CaptureFixture[str], racy: str) -> None:
    # worker#1 runs both its steps, then worker#2: a serial execution, no lost update (the
    # unlocked accesses still race: the race detector is off for this replay).
    serial = Schedule(choices=(0, 0, 1, 1), steps=4).id
    status, out, err = run(
        capsys, "replay", f"{racy}:lost_update", serial, "--no-detect-data-races"
    )
    assert (status, err) == (0, "")
    assert out.startswith(
        f"interleave: replay of lost_update with {serial}: 4 steps, findings: none"
    )


@pytest.mark.parametrize(
    ("schedule_id", "expected"),
    [
        ("garbage", "'garbage' is not a schedule ID"),
        ("1-AAAA", "schedule ID '1-AAAA' is damaged"),
    ],
)
def test_replay_of_a_bad_id_is_a_one_line_error(
    capsys: pytest.CaptureFixture[str], racy: str, schedule_id: str, expected: str
) -> None:
    status, out, err = run(capsys, "replay", f"{racy}:lost_update", schedule_id)
    assert status == 2
    assert out == ""
    assert expected in one_line_error(err)


@pytest.mark.parametrize(
    ("schedule_id", "expected"),
    [
        pytest.param("\u0661-AAQAAQEB", "ASCII digits", id="arabic-indic-digit"),
        pytest.param("\u00b2-AAQAAQEB", "ASCII digits", id="superscript-digit"),
        pytest.param("01-AAQAAQEB", "leading zero", id="leading-zero"),
        pytest.param("9" * 5_000 + "-AAQAAQEB", "newer ID format 9999...", id="huge-format"),
        pytest.param("1-AAYAgICAgAE", "more choices than its 6 steps", id="13-characters"),
        pytest.param("2-kAQEAAEKChoaAAGn", "checksum does not match", id="typo"),
        pytest.param("2-kAQEAAEKChoaAAG", "not a multiple of 4", id="truncated"),
    ],
)
def test_replay_of_an_id_from_issue_10_is_a_one_line_usage_error(
    capsys: pytest.CaptureFixture[str], racy: str, schedule_id: str, expected: str
) -> None:
    # These IDs used to end in a traceback (a bare ValueError), take 11 s and 4 GB, or be
    # accepted as format 1.
    status, out, err = run(capsys, "replay", f"{racy}:lost_update", schedule_id)

    assert (status, out) == (2, "")
    line = one_line_error(err)
    assert expected in line
    assert len(line) < 400  # a long ID is shortened in the message


def test_a_bad_id_is_reported_before_the_target_is_imported(
    capsys: pytest.CaptureFixture[str], racy: str
) -> None:
    status, _, err = run(capsys, "replay", "missing.py:nothing", "2-kAQEAAEKChoaAAGn")

    assert status == 2
    assert "checksum does not match" in one_line_error(err)


def test_replay_uses_the_options_the_id_recorded(
    capsys: pytest.CaptureFixture[str], racy: str
) -> None:
    explored = run(capsys, "explore", f"{racy}:lost_update", "--max-steps", "1")[1]
    schedule_id = replay_ids(explored)[0]  # the lost update's (its race shows in every one)
    assert "step-limit" in explored
    assert f"interleave replay {racy}:lost_update {schedule_id}\n" in explored + "\n"

    status, replayed, err = run(capsys, "replay", f"{racy}:lost_update", schedule_id)

    assert (status, err) == (1, "")
    assert "findings: 1 step-limit" in replayed.splitlines()[0]


def test_replay_that_diverges_is_a_one_line_error(
    capsys: pytest.CaptureFixture[str], racy: str
) -> None:
    _, explored, _ = run(capsys, "explore", f"{racy}:lost_update")
    schedule_id = replay_ids(explored)[0]  # the lost update's (its race shows in every one)
    # The same ID against a different scenario (the locked one blocks where it expects a get).
    status, out, err = run(capsys, "replay", f"{racy}:locked", schedule_id)
    assert status == 2
    assert out == ""
    assert f"cannot replay {schedule_id}: " in one_line_error(err)


# -------------------------------------------------------------------------------- progress


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_bar_shows_count_estimated_total_rate_and_time_left_then_clears() -> None:
    stream = FakeTerminal()
    bar = ProgressBar(stream)
    bar(
        interleave.Progress(
            executions=12_345,
            findings=1,
            elapsed=3.2,
            rate=3_858.0,
            total=1_824_912,
            estimated=True,
        )
    )
    drawn = stream.getvalue()
    assert drawn.startswith("\r")
    # count / ~estimated total (labelled), percentage, elapsed < time left, rate, findings
    assert "  1%|" in drawn
    assert "| 12.3k/~1.82M (estimated total) [00:03<07:49, 3.86k executions/s, 1 finding]" in drawn
    bar(interleave.Progress(executions=500, findings=0, elapsed=5.2, rate=96.0, total=1_000))
    assert "500/1.00k [00:05<00:05, 96.0 executions/s, 0 findings]" in stream.getvalue()
    assert "~1.00k" not in stream.getvalue()  # a budget is no estimate
    bar(interleave.Progress(executions=22_345, findings=2, elapsed=5.2, rate=4_297.0))
    assert "22.3k executions [00:05, 4.30k executions/s, 2 findings]" in stream.getvalue()
    bar.clear()
    # Erased: the last thing written is a blank line and a return to its start.
    assert re.search(r"\r +\r$", stream.getvalue())


def _fake_exploration(
    monkeypatch: pytest.MonkeyPatch, elapsed: list[float], seen: list[object]
) -> None:
    """run_exploration reports progress at these times (what explore() does), then runs."""
    real_explore = _api.run_exploration

    def explore_that_reports_progress(
        factory: Any, settings: Any, **options: Any
    ) -> interleave.ExploreResult:
        seen.append(options["progress"])
        for t in elapsed:
            options["progress"](
                interleave.Progress(
                    executions=int(1000 * t),
                    findings=1,
                    elapsed=t,
                    rate=1000.0,
                    total=20_000,
                    estimated=True,
                )
            )
        return real_explore(factory, settings, **options)

    monkeypatch.setattr(_api, "run_exploration", explore_that_reports_progress)


def test_progress_bar_on_a_terminal_is_erased_at_the_end(
    capsys: pytest.CaptureFixture[str], racy: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[object] = []
    _fake_exploration(monkeypatch, [3.2], seen)
    terminal = FakeTerminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    status = main(["explore", f"{racy}:lost_update"])
    assert status == 1
    assert isinstance(seen[0], ProgressBar)
    drawn = terminal.getvalue()
    assert "3.20k/~20.0k (estimated total) [00:03<00:16, 1.00k executions/s, 1 finding]" in drawn
    assert re.search(r"\r +\r$", drawn)


def test_progress_lines_every_five_seconds_when_stderr_is_not_a_terminal(
    capsys: pytest.CaptureFixture[str], racy: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[object] = []
    _fake_exploration(monkeypatch, [1.0, 1.5, 4.9, 5.0, 7.0, 9.9, 10.2], seen)
    status, _, err = run(capsys, "explore", f"{racy}:lost_update")
    assert status == 1
    # The first line once 5 s have passed, the next 5 s after it; nothing else on stderr.
    assert err.splitlines() == [
        "interleave: explored 5,000 of about 20,000 (estimated) executions: 25.0%, "
        "1,000 executions/s, about 15 s left; 1 finding so far",
        "interleave: explored 10,200 of about 20,000 (estimated) executions: 51.0%, "
        "1,000 executions/s, about 9.8 s left; 1 finding so far",
    ]


@pytest.mark.parametrize("mode", ["off", "lines", "bar"])
def test_the_progress_flag_chooses_the_display(
    capsys: pytest.CaptureFixture[str], racy: str, monkeypatch: pytest.MonkeyPatch, mode: str
) -> None:
    seen: list[object] = []
    _fake_exploration(monkeypatch, [], seen)
    monkeypatch.setattr(sys, "stderr", FakeTerminal())
    status = main(["explore", f"{racy}:lost_update", "--progress", mode])
    assert status == 1
    expected = {"off": type(None), "lines": _console.ProgressLines, "bar": ProgressBar}[mode]
    assert type(seen[0]) is expected


def test_the_progress_flag_refuses_other_values(
    capsys: pytest.CaptureFixture[str], racy: str
) -> None:
    status, _, err = run(capsys, "explore", f"{racy}:lost_update", "--progress", "loud")
    assert status == 2
    assert "--progress: invalid choice: 'loud'" in one_line_error(err)


# ------------------------------------------------------------------------------------ demo


def test_demo_shows_a_lost_update_a_deadlock_and_clean_fixes(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(ROOT)
    status, out, err = run(capsys, "demo")
    assert (status, err) == (0, "")
    assert out.startswith("interleave demo: the examples in examples ")
    assert "Finding the bugs is the point" in out
    assert "bank_transfer.unlocked: lost-update, invariant, data-race" in out
    assert "dining_philosophers.naive: deadlock" in out
    assert "lock-wait cycle:" in out
    for fixed in ("bank_transfer.locked", "bank_transfer.atomic", "dining_philosophers.ordered"):
        assert re.search(rf"^{fixed}: no findings, exhausted \([\d,]+ schedules\)$", out, re.M)
    shell_lines = re.findall(r"^  shell:   interleave (replay \S+ \S+)$", out, flags=re.M)
    assert any("bank_transfer.py:unlocked" in line for line in shell_lines)
    assert any("dining_philosophers.py:naive" in line for line in shell_lines)
    assert "exit status 0" in out

    # Every replay line the demo printed works as printed.
    for line in shell_lines:
        status, replayed, err = run(capsys, *line.split())
        assert (status, err) == (1, "")
        assert any(kind in replayed for kind in ("lost-update", "deadlock", "data-race"))


def test_demo_without_local_examples_uses_the_installed_copy(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    status, out, err = run(capsys, "demo")
    assert (status, err) == (0, "")
    assert "(bank_transfer.py, dining_philosophers.py)" in out.splitlines()[0]
    assert "dining_philosophers.naive: deadlock" in out


def test_demo_dir_runs_every_module_with_a_demo_list(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "mine.py").write_text(RACY + "\nDEMO = [lost_update, locked]\n", "utf-8")
    (tmp_path / "helper.py").write_text("X = 1\n", encoding="utf-8")
    (tmp_path / "_private.py").write_text("raise SystemExit('never imported')\n", "utf-8")
    monkeypatch.chdir(tmp_path)
    status, out, err = run(capsys, "demo", "--dir", str(tmp_path))
    assert (status, err) == (0, "")
    assert "(mine.py)" in out.splitlines()[0]
    assert "mine.lost_update: lost-update, invariant" in out
    assert re.search(r"^mine\.locked: no findings, exhausted \(\d+ schedules\)$", out, re.M)
    assert "interleave replay mine.py:lost_update 2-" in out


def test_demo_dir_errors(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    status, _, err = run(capsys, "demo", "--dir", "nowhere")
    assert status == 2
    assert "--dir 'nowhere' is not a directory" in one_line_error(err)
    (tmp_path / "plain.py").write_text("X = 1\n", encoding="utf-8")
    status, _, err = run(capsys, "demo", "--dir", ".")
    assert status == 2
    assert "has a DEMO list" in one_line_error(err)
    (tmp_path / "plain.py").write_text("DEMO = 'not a list'\n", encoding="utf-8")
    status, _, err = run(capsys, "demo", "--dir", ".")
    assert status == 2
    assert "plain.py: DEMO must be a list of scenario factories" in one_line_error(err)


def test_adding_a_command_takes_one_function(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def add_hello(sub: Any) -> None:
        parser = sub.add_parser("hello", help="say hello")
        parser.set_defaults(run=lambda args: print("hello") or 0)

    monkeypatch.setattr(_main, "COMMANDS", (*_main.COMMANDS, add_hello))
    assert run(capsys, "hello") == (0, "hello\n", "")
    assert "hello" in run(capsys, "--help")[1]


def test_script_entry_point_is_main() -> None:
    # pyproject.toml declares interleave = "interleave._cli:main"; python -m uses the same.
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert 'interleave = "interleave._cli:main"' in text
    main_module = (ROOT / "interleave" / "__main__.py").read_text(encoding="utf-8")
    assert "from ._cli import main" in textwrap.dedent(main_module)


# --- report ----------------------------------------------------------------------------------


def test_report_prints_one_table_across_the_taskboard_scenarios(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(ROOT)
    status, out, err = run(capsys, "report", "examples.taskboard.scenarios")
    assert status == 1, err
    rows = [
        line for line in out.splitlines() if line.endswith(("_buggy", "_fixed")) or "_b" in line
    ]
    assert sum("_buggy " in line for line in out.splitlines()) == 11
    assert sum("_fixed " in line for line in out.splitlines()) == 11
    assert rows
    assert "11 with findings, 11 exhaustively clean" in out


def test_report_of_a_clean_target_exits_0_and_has_markdown(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(ROOT)
    status, out, _ = run(
        capsys, "report", "examples/bank_transfer.py:locked", "--format", "markdown"
    )
    assert status == 0
    assert out.lstrip().startswith("|")
    assert "locked" in out and "| yes" in out


def test_report_of_a_module_without_demo_list_is_a_usage_error(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(ROOT)
    status, out, err = run(capsys, "report", "examples.taskboard")
    assert status == 2 and out == ""
    assert "no DEMO list" in one_line_error(err)
