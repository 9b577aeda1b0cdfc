"""docs/parallel.md's example runs as the page says: its module written to a file, imported,
and explored with two workers."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from test_docs import extract_blocks

PAGE = Path(__file__).resolve().parents[2] / "docs" / "parallel.md"


def test_the_pages_example_explores_with_two_workers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    module, usage, *_ = [b.code for b in extract_blocks(PAGE.read_text()) if b.lang == "python"]
    (tmp_path / "shop.py").write_text(module)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "shop", raising=False)
    namespace: dict[str, object] = {"__name__": "__main__"}  # (the block is guarded)
    exec(compile(usage, str(PAGE), "exec"), namespace)
    result = namespace["result"]
    assert not result.ok  # type: ignore[attr-defined]
