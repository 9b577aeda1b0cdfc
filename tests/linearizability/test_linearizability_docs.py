"""docs/linearizability.md cannot rot: its ```python blocks run in order, in one namespace (as
a reader would run them), and the report excerpt it shows is what the check prints.

A block is skipped when the line before its fence is ``<!-- not-tested -->`` (the pytest one).
"""

from __future__ import annotations

import re
import sys
import types
from collections.abc import Iterator
from pathlib import Path

import pytest

PAGE = Path(__file__).resolve().parents[2] / "docs" / "linearizability.md"
_FENCE = re.compile(r"^```(\w*)\s*$")


def blocks(text: str) -> list[tuple[str, int, str, bool]]:
    """(language, first line, code, tested) of each fenced block."""
    lines = text.splitlines()
    found = []
    i = 0
    while i < len(lines):
        match = _FENCE.match(lines[i])
        if match is None:
            i += 1
            continue
        previous = next((ln.strip() for ln in reversed(lines[:i]) if ln.strip()), "")
        end = i + 1
        while lines[end].strip() != "```":
            end += 1
        code = "\n".join(lines[i + 1 : end]) + "\n"
        found.append((match[1], i + 2, code, previous != "<!-- not-tested -->"))
        i = end + 1
    return found


@pytest.fixture(scope="module")
def namespace() -> Iterator[dict[str, object]]:
    # The page runs as a module of its own, as a reader's file would (trace_attributes=True
    # watches the classes of the project's modules, and this one is project code).
    module = types.ModuleType("linearizability_guide")
    module.__file__ = str(PAGE)
    sys.modules[module.__name__] = module
    try:
        ran = 0
        for language, line, code, tested in blocks(PAGE.read_text(encoding="utf-8")):
            if language != "python" or not tested:
                continue
            # Padded so tracebacks and reports point at the page's own line numbers.
            exec(compile("\n" * (line - 1) + code, str(PAGE), "exec"), module.__dict__)
            ran += 1
        assert ran >= 8
        yield module.__dict__
    finally:
        del sys.modules[module.__name__]


def test_every_python_block_runs(namespace: dict[str, object]) -> None:
    assert "SessionStoreModel" in namespace


def test_the_report_excerpt_is_what_the_check_prints(namespace: dict[str, object]) -> None:
    import interleave
    from interleave.models import CounterModel

    text = PAGE.read_text(encoding="utf-8")
    excerpt = next(code for language, _, code, _ in blocks(text) if language == "text")
    report = interleave.check_linearizable(
        namespace["StaleCounter"], CounterModel, ["increment", "get"]
    ).report()
    # Line by line, but the file names of the steps (the page's example is counter.py, and
    # the width of that column sets the spacing of the diagram) and the shortened ID.
    printed = {" ".join(line.split()) for line in report.splitlines()}
    for line in excerpt.splitlines():
        if ".py:" in line or "L1-" in line or line.startswith("------") or not line.strip():
            continue
        assert " ".join(line.split()) in printed, line
