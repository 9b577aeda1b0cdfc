"""The taskboard example (``examples/taskboard``) is imported as the package ``taskboard``;
copies of its template databases made outside explorations are removed after each test."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
if str(EXAMPLES) not in sys.path:
    sys.path.insert(0, str(EXAMPLES))


@pytest.fixture(autouse=True)
def _remove_template_copies() -> Iterator[None]:
    yield
    from taskboard import scenarios

    scenarios.BOARD.close()
    scenarios.ARCHIVE.close()
