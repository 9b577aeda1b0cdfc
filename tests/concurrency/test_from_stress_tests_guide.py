"""docs/from-stress-tests.md cannot rot: its ```python blocks run in order, in one namespace,
with the helpers of tests/docs/test_docs.py; the IDs and counts it quotes are today's."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest
from taskboard import scenarios

import interleave

ROOT = Path(__file__).resolve().parents[2]
PAGE = "docs/from-stress-tests.md"


def _docs_helpers() -> ModuleType:
    name = "_interleave_docs_helpers"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(
            name, ROOT / "tests" / "docs" / "test_docs.py"
        )
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


def test_every_python_block_of_the_guide_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "path", list(sys.path))
    monkeypatch.chdir(ROOT)
    helpers = _docs_helpers()
    blocks = helpers.python_blocks(PAGE)
    ran = helpers.run_blocks(blocks, {"__name__": "__guide__"}, str(ROOT / PAGE))
    assert ran >= 6
    assert len([b for b in blocks if not b.tested]) == 2  # the two pytest test functions


def test_the_quoted_schedule_ids_and_counts_are_current() -> None:
    text = (ROOT / PAGE).read_text(encoding="utf-8")
    result = interleave.explore(scenarios.task_updates_buggy)
    assert f"schedule ID: {result.findings[0].schedule_id}" in text
    assert f"lost-update (in {result.occurrences[0]} of {result.schedules_run} schedules)" in text
    deadlock = interleave.explore(scenarios.deadlock_buggy)
    assert deadlock.findings[0].schedule_id == "2-kAQEAAEjIiMiAMTr"
    for case in scenarios.CASES:
        quoted = f"`{case.seed_test}`" if case.seed_test.startswith("test_") else "(new)"
        assert f"| {quoted} |" in text, f"the guide's table has no row for {case.name}"
