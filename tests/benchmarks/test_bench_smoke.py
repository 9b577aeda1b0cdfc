"""The benchmark scripts work: every ``benchmarks/bench_*.py`` runs in quick mode.

No timing is asserted (the machine is shared and noisy); these tests check the convention of
``benchmarks/run_all.py``, the deterministic counts and that the tables are printed.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

BENCH_DIR = Path(__file__).resolve().parents[2] / "benchmarks"


def _load(name: str) -> ModuleType:
    module_name = f"_bench_smoke_{name}"
    if module_name in sys.modules:
        return sys.modules[module_name]
    spec = importlib.util.spec_from_file_location(module_name, BENCH_DIR / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def run_all() -> ModuleType:
    return _load("run_all")


def test_discover_finds_every_bench_module(run_all: ModuleType) -> None:
    found = [p.name for p in run_all.discover()]
    on_disk = sorted(p.name for p in BENCH_DIR.glob("bench_*.py"))
    assert found == on_disk
    assert "bench_core.py" in found


def _bench_params() -> list[object]:
    params: list[object] = []
    for path in sorted(BENCH_DIR.glob("bench_*.py")):
        marks = []
        if path.stem == "bench_stress_vs_interleave":
            # The stress side runs real threads; a run that hangs (a real deadlock) keeps its
            # threads and their sqlite connections, which Python 3.13 reports as unclosed when
            # they are collected later. That leak is what a hung stress test is.
            marks.append(pytest.mark.filterwarnings("ignore::ResourceWarning"))
            marks.append(
                pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
            )
        params.append(pytest.param(path, id=path.stem, marks=marks))
    return params


@pytest.mark.parametrize("path", _bench_params())
def test_each_module_follows_the_convention_and_runs_quick(
    run_all: ModuleType, path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    failed = run_all.run([path], quick=True)
    out = capsys.readouterr().out
    assert failed == [], out
    assert f"=== {path.name} (quick)" in out
    assert f"=== {path.name} done" in out


def test_bench_core_counts_are_exact() -> None:
    bench = _load("bench_core")
    switch, rows = bench.measure(quick=True)
    assert switch > 0
    counts = {(r.workload, r.explorer): (r.schedules, r.steps) for r in rows}
    assert counts == {
        ("2 x 5", "bare greenlet dfs"): (252, 2_520),
        ("2 x 5", "interleave dfs"): (252, 2_520),
        ("2 x 5", "interleave dpor"): (252, 2_520),
        ("2 x 5", "interleave dfs, patch_threading=False"): (252, 2_520),
        ("3 x 3", "bare greenlet dfs"): (1_680, 15_120),
        ("3 x 3", "interleave dfs"): (1_680, 15_120),
        ("3 x 3", "interleave dpor"): (1_680, 15_120),
        ("3 x 3", "interleave dfs, patch_threading=False"): (1_680, 15_120),
        ("2 x 2 locked", "interleave dfs"): (6, 96),
    }
    text = bench.render(switch, rows, quick=True)
    for header in ("schedules", "steps", "us/step", "step / switch pair", "time / bare"):
        assert header in text
    assert "3 x 3: dpor / dfs cost per execution = " in text
    # Counts come before clocks in the table.
    assert text.index("steps") < text.index("ms/exploration")


def test_bench_schedule_ids_counts_are_exact() -> None:
    bench = _load("bench_schedule_ids")
    seeds = ["2-kAQEAAEKChoaAAGm", "1-AAQAAQEB"]

    rows = bench.fuzz(500, seeds)

    assert [(r.family, r.strings) for r in rows] == [
        ("random text", 100),
        ("random bytes as text", 100),
        ("base64url payloads", 100),
        ("edits of valid IDs", 100),
        ("long random payloads", 100),
        ("issue 10's IDs", len(bench.known_bad())),
        ("crafted to the caps", len(bench.crafted())),
    ]
    assert sum(r.other for r in rows) == 0  # only InvalidScheduleId
    assert sum(r.wrong for r in rows) == 0  # no edit decodes to another schedule
    assert all(r.decoded + r.invalid == r.strings for r in rows)
    assert max(r.worst_bytes for r in rows) < bench.MAX_BYTES


def test_bench_linearizability_counts() -> None:
    bench = _load("bench_linearizability")

    rows = bench.measure(quick=True)
    marks = bench.marks_compared(quick=True)

    assert [(r.workload.split()[0], r.scenarios) for r in rows] == [
        ("counter", 10),
        ("cache", 45),
        ("queue", 10),
    ]
    assert all(r.histories >= r.executions >= r.scenarios for r in rows)
    # One execution per trace class: the marks that touch nothing add none, those that
    # conflict multiply them.
    assert [(m[0], m[1], m[2]) for m in marks] == [("counter: 2 x (increment, get)", 4, 34)]
    text = bench.render(rows, marks, quick=True)
    assert text.index("histories") < text.index("check us/history")


def test_main_selects_by_short_name(
    run_all: ModuleType, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_all.main(["--quick", "core"]) == 0
    out = capsys.readouterr().out
    assert "=== bench_core.py (quick)" in out
    assert "raw greenlet switch pair" in out


def test_unknown_name_is_refused_with_the_known_ones(run_all: ModuleType) -> None:
    with pytest.raises(SystemExit, match=r"no benchmark named 'nope' \(known: .*core"):
        run_all.main(["--quick", "nope"])


def test_module_without_main_fails_loudly_and_others_still_run(
    run_all: ModuleType, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "bench_a_broken.py").write_text("X = 1\n")
    (tmp_path / "bench_b_old.py").write_text("def main():\n    print('old')\n")
    (tmp_path / "bench_c_ok.py").write_text(
        "def main(quick: bool = False) -> None:\n    print('ok', quick)\n"
    )
    paths = run_all.discover(tmp_path)
    assert [p.name for p in paths] == ["bench_a_broken.py", "bench_b_old.py", "bench_c_ok.py"]
    failed = run_all.run(paths, quick=True)
    captured = capsys.readouterr()
    assert failed == ["bench_a_broken.py", "bench_b_old.py"]
    assert "defines no main()" in captured.err
    assert "takes no `quick` argument" in captured.err
    assert "ok True" in captured.out
