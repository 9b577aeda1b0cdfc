"""Packaging that tells the truth: the wheel carries the licence and the report schema, the
metadata names the project's pages, the published extras pin nothing, and the README's links
and install command work where a package index shows it."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
README = (ROOT / "README.md").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> zipfile.ZipFile:
    out = tmp_path_factory.mktemp("dist")
    build = ["wheel", "--quiet", "--no-deps", "--no-build-isolation", "--wheel-dir", str(out)]
    subprocess.run(
        [sys.executable, "-m", "pip", *build, str(ROOT)],
        check=True,
        capture_output=True,
    )
    (built,) = out.glob("interleave_scheduler-*.whl")
    return zipfile.ZipFile(built)


def test_the_wheel_carries_the_licence_the_schema_and_the_type_marker(
    wheel: zipfile.ZipFile,
) -> None:
    names = wheel.namelist()
    licences = [n for n in names if n.endswith(".dist-info/licenses/LICENSE")]
    assert licences, names
    assert "MIT License" in wheel.read(licences[0]).decode()
    assert "interleave/_report/schema.json" in names
    assert "interleave/py.typed" in names


def test_the_metadata_names_the_licence_the_pages_and_the_classifiers(
    wheel: zipfile.ZipFile,
) -> None:
    (meta,) = [n for n in wheel.namelist() if n.endswith(".dist-info/METADATA")]
    text = wheel.read(meta).decode()
    assert "License-Expression: MIT" in text
    urls = dict(
        line.removeprefix("Project-URL: ").split(", ", 1)
        for line in text.splitlines()
        if line.startswith("Project-URL: ")
    )
    assert {"Homepage", "Documentation", "Repository", "Issues", "Changelog"} <= set(urls)
    assert all(url.startswith("https://") for url in urls.values())
    assert "Classifier: Topic :: Software Development :: Testing" in text
    assert "Classifier: Typing :: Typed" in text
    # Every extra is published: none may pin a tool to one version.
    pinned = [
        line
        for line in text.splitlines()
        if line.startswith("Requires-Dist:") and "==" in line.split(";")[0]
    ]
    assert not pinned


def test_the_tools_are_pinned_for_ci_in_the_constraints_file() -> None:
    pins = (ROOT / "constraints.txt").read_text(encoding="utf-8")
    for tool in ("ruff", "mypy", "mkdocs", "mkdocstrings-python"):
        assert re.search(rf"^{tool}==\d", pins, re.MULTILINE), tool
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert "-c constraints.txt" in makefile
    for extra in PYPROJECT["project"]["optional-dependencies"].values():
        assert not [r for r in extra if "==" in r]


def test_readme_links_are_absolute_so_they_work_on_a_package_index() -> None:
    links = re.findall(r"!?\[[^\]]*\]\(([^)\s]+)", README)
    assert links
    relative = [link for link in links if not link.startswith(("https://", "#"))]
    assert not relative
    home = PYPROJECT["project"]["urls"]["Repository"]
    assert all(link.startswith(home) for link in links if link.startswith("https://github"))


def test_readme_install_command_is_the_one_ci_runs_on_a_fresh_environment() -> None:
    script = (ROOT / ".ci" / "check-install").read_text(encoding="utf-8")
    ran = re.search(r'"\$work/venv/bin/python" -m pip install --quiet (\S+)', script)
    assert ran is not None
    assert f"python -m pip install {ran[1]}\n" in README
    assert "bash .ci/check-install" in (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "not on PyPI yet" in README
