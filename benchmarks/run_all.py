"""Run every benchmark module: ``python benchmarks/run_all.py [--quick] [NAME ...]``.

The convention (see ``benchmarks/README.md``): a benchmark is a file ``benchmarks/bench_*.py``
that defines ``main(quick: bool = False) -> None``, which measures and prints its own table.
``quick=True`` must finish in a few seconds: it proves the script works (the test suite calls
it) and is not a measurement. Adding a benchmark means dropping such a file here; nothing else
needs to change.

Modules run in name order, each in this process, one after the other. A module that fails is
reported and the others still run; the exit status is 1 if any failed.

Examples::

    python benchmarks/run_all.py                 # every benchmark, full measurement
    python benchmarks/run_all.py --quick         # every benchmark, smoke mode
    python benchmarks/run_all.py core sqlite     # bench_core.py and bench_sqlite.py only
"""

from __future__ import annotations

import argparse
import inspect
import sys
import time
import traceback
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

from interleave._cli import load_file

BENCH_DIR = Path(__file__).resolve().parent
PREFIX = "bench_"


def discover(directory: Path = BENCH_DIR) -> list[Path]:
    """Every ``bench_*.py`` file in ``directory``, sorted by name."""
    return sorted(p for p in directory.glob(f"{PREFIX}*.py") if p.is_file())


def short_name(path: Path) -> str:
    """``bench_core.py`` -> ``core`` (the name used on the command line)."""
    return path.stem.removeprefix(PREFIX)


def load(path: Path) -> ModuleType:
    """Import a benchmark module from its file (``benchmarks`` is not a package), as the
    command line imports a FILE.py target (its folder first on ``sys.path``)."""
    return load_file(path, name=f"_interleave_benchmarks.{path.stem}")


def entry_point(module: ModuleType, path: Path) -> object:
    """The module's ``main``, checked against the convention."""
    main = getattr(module, "main", None)
    if not callable(main):
        raise TypeError(
            f"{path.name} defines no main(): every bench_*.py module must define "
            "`def main(quick: bool = False) -> None` that prints its own table"
        )
    if "quick" not in inspect.signature(main).parameters:
        raise TypeError(
            f"{path.name}: main() takes no `quick` argument; define "
            "`def main(quick: bool = False) -> None` (quick=True is the smoke-test mode)"
        )
    return main


def select(paths: Sequence[Path], names: Sequence[str]) -> list[Path]:
    """The modules named on the command line (``core`` or ``bench_core``), all when none."""
    if not names:
        return list(paths)
    by_name = {short_name(p): p for p in paths}
    chosen = []
    for name in names:
        key = Path(name).stem.removeprefix(PREFIX)
        if key not in by_name:
            known = ", ".join(sorted(by_name)) or "none"
            raise SystemExit(f"run_all.py: no benchmark named {name!r} (known: {known})")
        chosen.append(by_name[key])
    return chosen


def run(paths: Sequence[Path], *, quick: bool = False) -> list[str]:
    """Run each module's ``main(quick=quick)``; return the names of those that failed."""
    failed = []
    for path in paths:
        print(f"=== {path.name}{' (quick)' if quick else ''}", flush=True)
        start = time.perf_counter()
        try:
            main = entry_point(load(path), path)
            main(quick=quick)  # type: ignore[operator]
        except Exception:
            traceback.print_exc()
            failed.append(path.name)
            print(f"=== {path.name} FAILED", flush=True)
        else:
            print(f"=== {path.name} done in {time.perf_counter() - start:.1f} s", flush=True)
        print(flush=True)
    return failed


def main(argv: Sequence[str] | None = None) -> int:
    """Command line entry point; returns the exit status."""
    parser = argparse.ArgumentParser(description="Run interleave's benchmarks.")
    parser.add_argument(
        "--quick", action="store_true", help="smoke mode: run each benchmark once, quickly"
    )
    parser.add_argument("names", nargs="*", help="benchmarks to run (core, ...); default all")
    args = parser.parse_args(argv)
    paths = select(discover(), args.names)
    if not paths:
        print(f"run_all.py: no {PREFIX}*.py modules in {BENCH_DIR}", file=sys.stderr)
        return 1
    failed = run(paths, quick=args.quick)
    if failed:
        print(f"run_all.py: {len(failed)} benchmark(s) failed: {', '.join(failed)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
