"""A TARGET that is a file inside a package is imported by its dotted name, so that its relative
imports work (as pytest imports test files), and the demo's replay lines for a package of
examples that no module name reaches from the current directory name the file.

Each pasted line runs in a fresh process, as a user runs it.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from test_replay_lines import MAKE_RACE

from interleave._cli import main

CASES = '''
"""Two cases of a suite of examples, built by a helper of the package."""
from .make import make_race

race = make_race(2)


def lost_update():
    return make_race(2)()


DEMO = [lost_update]
'''

#: ``make.py``: a function that makes a factory (the one the replay-line tests use).
MAKE = "import interleave\n" + MAKE_RACE


@pytest.fixture
def suite(tmp_path: Path) -> Path:
    """``tmp_path/examples/pkgsuite/{__init__,cases,make}.py``: a package with a relative
    import; the examples folder itself is no package."""
    package = tmp_path / "examples" / "pkgsuite"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text('"""A suite."""\n', encoding="utf-8")
    (package / "cases.py").write_text(CASES, encoding="utf-8")
    (package / "make.py").write_text(MAKE, encoding="utf-8")
    return package


def _interleave(*argv: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "interleave", *argv],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.mark.parametrize("factory", ["lost_update", "race"])
def test_a_file_in_a_package_is_explored_and_replayed_by_its_path(
    suite: Path, tmp_path: Path, factory: str
) -> None:
    # It failed: "attempted relative import with no known parent package".
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    target = f"{suite / 'cases.py'}:{factory}"
    done = _interleave("explore", target, "--no-database", cwd=elsewhere)
    assert done.returncode == 1, done.stderr
    [shell] = re.findall(r"^  shell:   interleave (replay .+)$", done.stdout, flags=re.M)[:1]
    assert shell.split()[1] == target
    replayed = _interleave(*shell.split(), cwd=elsewhere)
    assert replayed.returncode == 1, replayed.stderr
    assert "lost-update" in replayed.stdout.splitlines()[0]


def test_the_demo_names_the_file_when_no_module_name_reaches_the_suite(
    suite: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Run from a folder the suite is not below: ``pkgsuite.cases`` imports only in this
    # process (the folder is put on sys.path); pasted elsewhere it did not import.
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    status = main(["demo", "--dir", str(suite.parent)])
    out, err = capsys.readouterr()
    assert (status, err) == (0, ""), err
    lines = re.findall(r"^  replay: interleave (replay \S+ \S+)$", out, flags=re.M)
    assert lines == [f"replay {suite / 'cases.py'}:lost_update {lines[0].split()[-1]}"]
    replayed = _interleave(*lines[0].split(), cwd=elsewhere)
    assert replayed.returncode == 1, replayed.stderr
    assert "lost-update" in replayed.stdout.splitlines()[0]
