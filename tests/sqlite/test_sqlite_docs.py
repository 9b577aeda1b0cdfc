"""The python blocks of docs/sqlite.md run, in order, in one namespace (as a reader would)."""

from __future__ import annotations

import re
from pathlib import Path

PAGE = Path(__file__).resolve().parents[2] / "docs" / "sqlite.md"
_BLOCK = re.compile(r"^```python\n(.*?)^```$", re.MULTILINE | re.DOTALL)


def test_the_page_has_python_blocks() -> None:
    assert len(_BLOCK.findall(PAGE.read_text())) >= 4


def test_every_python_block_of_the_sqlite_guide_runs() -> None:
    namespace: dict[str, object] = {"__name__": "sqlite_guide"}
    text = PAGE.read_text()
    for match in _BLOCK.finditer(text):
        line = text.count("\n", 0, match.start()) + 2
        exec(compile(match.group(1), f"{PAGE}:{line}", "exec"), namespace)
    deadlock = namespace["deadlock"]
    assert deadlock.kind == "deadlock"  # type: ignore[attr-defined]
