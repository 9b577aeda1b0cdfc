"""``interleave demo``: explore the bundled examples, buggy and fixed variants, and print them.

The examples say what the demo runs: every module with a ``DEMO`` list of scenario factories
(found by reading the source, so nothing else is imported). A single-file example
(``bank_transfer.py``) gets one full report per variant; a package of examples (the
``taskboard/`` suite, whose ``scenarios.py`` lists 22 variants) gets one summary table and a
paragraph per variant with findings. The examples come from ``--dir``, else ``./examples`` when
it has DEMO lists, else the copy installed with interleave (``interleave/_examples``).
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.resources
import inspect
import sys
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .. import _api, summary_report
from .._engine._settings import ExploreSettings
from .._report import ReplayContext, render_explore
from .._results import ExploreResult
from ._console import EXIT_OK, UsageError, emit, help_text, progress, wrap
from ._targets import (
    Factory,
    declares_demo,
    demo_factories,
    display_path,
    import_from_folder,
    load_file,
)

__all__ = ["add_demo"]

#: Where a source checkout (an editable install) keeps the examples, beside the package.
_CHECKOUT = Path(__file__).resolve().parents[2] / "examples"


def add_demo(sub: Any) -> None:
    parser = sub.add_parser(
        "demo",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        help="explore the bundled examples: a lost update, a deadlock and their fixes",
        description=help_text(
            "Explore the bundled examples (bank transfers with a lost update, dining "
            "philosophers with a deadlock, the taskboard application's suite) and their fixed "
            "variants, and print the reports. The examples come from --dir, else ./examples "
            "when it holds examples, else the copy installed with interleave. An example is "
            "a module with a DEMO list of scenario factories."
        ),
        epilog=(
            "examples:\n"
            "  interleave demo\n"
            "  interleave demo --dir path/to/examples\n\n"
            "exit status: 0 when the demo ran (finding the bugs is the point), 2 when the "
            "examples cannot be found"
        ),
    )
    parser.add_argument(
        "--dir",
        type=Path,
        metavar="DIR",
        help="run the examples in DIR: every module in it (or in a package in it) with a DEMO "
        "list of factories",
    )
    parser.set_defaults(run=run_demo)


@dataclass(frozen=True)
class _Example:
    """A module with a DEMO list: a single file, or one module of a package of examples."""

    name: str  # "bank_transfer", or "taskboard" for taskboard/scenarios.py
    path: Path
    factories: list[Factory]
    suite: bool  # in a package: shown as one table
    by_file: bool = False  # its module name imports only here: targets name the file


def _demo_files(folder: Path) -> Iterator[Path]:
    """The modules of ``folder`` and of the packages in it that assign ``DEMO``."""
    for path in sorted(folder.glob("*.py")):
        if not path.name.startswith("_") and declares_demo(path):
            yield path
    for package in sorted(p for p in folder.iterdir() if (p / "__init__.py").is_file()):
        if package.name.startswith(("_", ".")):
            continue
        for path in sorted(package.glob("*.py")):
            if not path.name.startswith("_") and declares_demo(path):
                yield path


def _examples(folder: Path, installed: Path | None) -> list[_Example]:
    found = []
    for path in _demo_files(folder):
        where = display_path(path)
        if path.parent == folder:
            module = load_file(path)
            found.append(_Example(path.stem, path, demo_factories(module, where), suite=False))
        else:
            # Imported by a dotted name so that its factories' replay lines work as printed.
            dotted = f"{path.parent.name}.{path.stem}"
            module, reachable = import_from_folder(folder, dotted, installed)
            factories = demo_factories(module, where)
            found.append(
                _Example(path.parent.name, path, factories, suite=True, by_file=not reachable)
            )
    if not found:
        raise UsageError(
            f"no example in {str(folder)!r} has a DEMO list; each example module lists the "
            "factories to run, e.g. DEMO = [unlocked, locked]"
        )
    return found


def _installed() -> Path | None:
    bundled = importlib.resources.files("interleave") / "_examples"
    return Path(str(bundled)) if bundled.is_dir() else None


@contextlib.contextmanager
def _examples_dir(given: Path | None) -> Iterator[Path]:
    if given is not None:
        if not given.is_dir():
            raise UsageError(
                f"--dir {str(given)!r} is not a directory; give the folder that holds the "
                "example .py files"
            )
        yield given
        return
    local = Path("examples")
    if local.is_dir() and next(_demo_files(local), None) is not None:
        yield local
        return
    bundled = importlib.resources.files("interleave") / "_examples"
    if bundled.is_dir():
        with importlib.resources.as_file(bundled) as folder:
            yield folder
        return
    if _CHECKOUT.is_dir() and next(_demo_files(_CHECKOUT), None) is not None:
        yield _CHECKOUT
        return
    raise UsageError(
        "cannot find the examples: no ./examples with DEMO lists and no copy installed with "
        "interleave; pass --dir path/to/examples"
    )


def _first_line(thing: object) -> str:
    doc = inspect.getdoc(thing) or ""
    return doc.strip().splitlines()[0] if doc.strip() else ""


def _explore(factory: Factory, target: str | None) -> ExploreResult:
    # A bar on a terminal; no progress lines in a log: the demo's output is its reports.
    with progress("auto" if sys.stderr.isatty() else "off") as line:
        return _api.run_exploration(factory, ExploreSettings(), progress=line, target=target)


def _show_file(example: _Example, found: list[str], clean: list[str]) -> None:
    """One full report per variant of a single-file example."""
    for factory in example.factories:
        attr = getattr(factory, "__name__", "scenario")
        name = f"{example.name}.{attr}"
        result = _explore(factory, f"{display_path(example.path)}:{attr}")
        about = _first_line(factory)
        if result.ok:
            coverage = "exhausted" if result.exhausted else "NOT exhausted"
            emit(
                f"\n{name}: no findings, {coverage} ({result.schedules_run:,} schedules)"
                + (f"\n  {about}" if about else "")
            )
            clean.append(name)
            continue
        kinds = ", ".join(dict.fromkeys(f.kind for f in result.findings))
        title = f"{name}: {kinds}"
        emit(
            f"\n{title}\n{'#' * len(title)}"
            + (f"\n{about}" if about else "")
            + f"\n\n{render_explore(result, ReplayContext.of(result))}"
        )
        found.append(name)


def _show_suite(example: _Example, module_doc: str, found: list[str], clean: list[str]) -> None:
    """One table for a package's variants, then what each variant with findings showed."""
    # Targets by module name, unless that name imports only in this process (the examples of
    # a source checkout, run from another directory): then by the file's path.
    where = display_path(example.path)
    results = [
        _explore(factory, f"{where}:{factory.__name__}" if example.by_file else None)
        for factory in example.factories
    ]
    title = f"{example.name}: {len(results)} scenarios ({display_path(example.path)})"
    out = [title, "#" * len(title)] + ([module_doc] if module_doc else [])
    out += ["", summary_report(results)]
    for result in results:
        if result.ok:
            continue
        first = result.findings[0]
        message = textwrap.shorten(first.message.splitlines()[0], 96, placeholder=" …")
        kinds = ", ".join(dict.fromkeys(f.kind for f in result.findings))
        out += ["", f"{result.scenario}: {kinds}", f"  {message}"]
        if result.target:
            out.append(f"  replay: interleave replay {result.target} {first.schedule_id}")
    emit("\n" + "\n".join(out))
    with_findings = sum(1 for r in results if r.findings)
    if with_findings:
        found.append(f"{with_findings} {example.name} scenarios")
    if len(results) - with_findings:
        clean.append(f"{len(results) - with_findings} {example.name} scenarios")


def run_demo(args: argparse.Namespace) -> int:
    found: list[str] = []
    clean: list[str] = []
    with _examples_dir(args.dir) as folder:
        examples = _examples(folder, _installed())
        files = ", ".join(e.path.name for e in examples if not e.suite)
        suites = ", ".join(f"{e.name}/" for e in examples if e.suite)
        listed = (f"({files})" if files else "") + (f" and the suite in {suites}" if suites else "")
        emit(
            f"interleave demo: the examples in {display_path(folder)} {listed}\n"
            + wrap(
                "Each example has a buggy variant and fixed ones. Finding the bugs is the "
                "point: the buggy variants report findings, each with a schedule ID that "
                "replays it; the fixed variants come out clean with every interleaving "
                "explored (exhausted)."
            )
        )
        for example in examples:
            if example.suite:
                module_doc = _first_line(_module_of(example.factories[0]))
                _show_suite(example, module_doc, found, clean)
            else:
                _show_file(example, found, clean)
    emit(
        "\ndemo done: the findings are the demo working, not a failure (exit status 0).\n"
        + f"  with findings:    {', '.join(found) or 'none'}\n"
        + f"  without findings: {', '.join(clean) or 'none'}\n"
        + "Paste a 'shell:' line above to replay one step by step."
    )
    return EXIT_OK


def _module_of(factory: Factory) -> object:
    return inspect.getmodule(factory)
