"""``interleave explore|report --require-proof``: exit 1, saying why, unless the verdict is
``proved``; the verdict is in the report either way."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from interleave._cli import main

SCENARIOS = """
import interleave

def locked():
    hits = interleave.Shared("hits", 0)
    lock = interleave.Lock(name="hits-lock")

    def worker():
        with lock:
            hits.set(hits.get() + 1)

    return interleave.Scenario(threads=[worker] * 3, check=lambda: hits.get() == 3)

def lost_update():
    hits = interleave.Shared("hits", 0)

    def worker():
        hits.set(hits.get() + 1)

    return interleave.Scenario(threads=[worker, worker], check=lambda: hits.get() == 2)
"""


@pytest.fixture(autouse=True)
def scenarios(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    (tmp_path / "proofs.py").write_text(SCENARIOS, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", list(sys.path))
    before = set(sys.modules)
    yield
    for name in set(sys.modules) - before:
        if name.startswith("_interleave_target_"):
            del sys.modules[name]


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def verdict_row(report: str) -> list[str]:
    [row] = [line.split() for line in report.splitlines() if line.startswith("verdict ")]
    return row


def test_a_proved_clean_run_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = run(capsys, "explore", "proofs.py:locked", "--require-proof")

    assert (status, err) == (0, "")
    assert verdict_row(out) == ["verdict", "proved"]


@pytest.mark.parametrize(
    ("options", "why"),
    [
        (["--max-schedules", "2"], "stopped at max_schedules before covering every schedule"),
        (["--strategy", "random", "--max-schedules", "5"], "stopped at max_schedules"),
        (["--strategy", "pct", "--max-schedules", "5"], "stopped at max_schedules"),
    ],
)
def test_a_sampled_clean_run_exits_1_and_says_why(
    capsys: pytest.CaptureFixture[str], options: list[str], why: str
) -> None:
    status, out, err = run(capsys, "explore", "proofs.py:locked", *options)
    assert status == 0  # without the flag a clean sample passes, and the report says sampled
    assert verdict_row(out) == ["verdict", "sampled"]

    status, out, err = run(capsys, "explore", "proofs.py:locked", *options, "--require-proof")

    assert status == 1
    assert verdict_row(out) == ["verdict", "sampled"]
    [line] = err.splitlines()
    assert line.startswith(
        "interleave: --require-proof: locked: the verdict is 'sampled', not 'proved' ("
    )
    assert why in line
    assert "for a proof, use --strategy dpor (or dfs) without --stop-on-first" in line


def test_stop_on_first_with_findings_is_not_a_proof_either(
    capsys: pytest.CaptureFixture[str],
) -> None:
    status, _, err = run(
        capsys, "explore", "proofs.py:lost_update", "--stop-on-first", "--require-proof"
    )

    assert status == 1
    assert "the verdict is 'sampled', not 'proved' (stopped at the first finding" in err


def test_findings_of_a_proved_run_exit_1_without_a_proof_complaint(
    capsys: pytest.CaptureFixture[str],
) -> None:
    status, out, err = run(capsys, "explore", "proofs.py:lost_update", "--require-proof")

    assert status == 1
    assert verdict_row(out) == ["verdict", "proved"]
    assert err == ""


def test_report_requires_a_proof_of_every_target(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = run(
        capsys, "report", "proofs.py:locked", "--max-schedules", "3", "--require-proof"
    )
    assert status == 1
    assert "(verdicts: 1 sampled)" in out
    assert "interleave: --require-proof: locked: the verdict is 'sampled'" in err

    status, out, err = run(capsys, "report", "proofs.py:locked", "--require-proof")
    assert (status, err) == (0, "")
    assert "(verdicts: 1 proved)" in out


@pytest.mark.parametrize("command", ["explore", "report"])
def test_help_explains_the_flag_and_the_exit_status(
    capsys: pytest.CaptureFixture[str], command: str
) -> None:
    _, out, _ = run(capsys, command, "--help")

    assert "--require-proof" in out
    assert "with --require-proof, a verdict other" in out
