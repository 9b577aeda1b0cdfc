"""The public surface: sorted ``__all__``, docstrings everywhere, and a light ``import``."""

from __future__ import annotations

import inspect
import subprocess
import sys
from types import ModuleType

import pytest

import interleave
import interleave.detectors
import interleave.errors
import interleave.instrument
import interleave.models

PUBLIC_MODULES = [
    interleave,
    interleave.errors,
    interleave.instrument,
    interleave.detectors,
    interleave.models,
]


def _public(module: ModuleType) -> list[tuple[str, object]]:
    return [(name, getattr(module, name)) for name in module.__all__ if name != "__version__"]


@pytest.mark.parametrize("module", PUBLIC_MODULES, ids=lambda m: m.__name__)
def test_all_is_sorted_and_unique(module: ModuleType) -> None:
    names = list(module.__all__)

    assert names == sorted(names), f"{module.__name__}.__all__ is not sorted"
    assert len(set(names)) == len(names), f"{module.__name__}.__all__ has duplicates"


@pytest.mark.parametrize("module", PUBLIC_MODULES, ids=lambda m: m.__name__)
def test_all_names_exist(module: ModuleType) -> None:
    missing = [name for name in module.__all__ if not hasattr(module, name)]

    assert not missing, f"{module.__name__}.__all__ lists missing names: {missing}"


def _undocumented() -> list[str]:
    problems = []
    for module in (interleave, interleave.errors, interleave.models):
        for name, obj in _public(module):
            if not (inspect.getdoc(obj) or "").strip():
                problems.append(f"{module.__name__}.{name}")
            if not inspect.isclass(obj):
                continue
            for attr, member in vars(obj).items():
                if attr.startswith("_"):
                    continue
                func = member.fget if isinstance(member, property) else member
                if isinstance(func, staticmethod | classmethod):
                    func = func.__func__
                if not callable(func) and not isinstance(member, property):
                    continue
                if not (getattr(func, "__doc__", None) or "").strip():
                    problems.append(f"{module.__name__}.{name}.{attr}")
    return problems


def test_public_names_and_their_public_methods_have_docstrings() -> None:
    problems = _undocumented()

    assert not problems, "public names without a docstring:\n  " + "\n  ".join(problems)


def test_public_functions_docstrings_have_an_example() -> None:
    missing = [
        name
        for name, obj in _public(interleave)
        if inspect.isfunction(obj) and "Example" not in (obj.__doc__ or "")
    ]

    assert not missing, f"public functions without an 'Example::' section: {missing}"


def test_public_objects_report_the_public_module() -> None:
    wrong = [
        name
        for name, obj in _public(interleave)
        if (inspect.isclass(obj) or inspect.isfunction(obj)) and obj.__module__ != "interleave"
    ]

    assert not wrong, f"these report a private module in reprs and tracebacks: {wrong}"


def test_every_error_derives_from_the_root() -> None:
    for name, obj in _public(interleave.errors):
        assert inspect.isclass(obj)
        if issubclass(obj, Warning):
            assert issubclass(obj, interleave.errors.InterleaveWarning), name
        else:
            assert issubclass(obj, interleave.errors.InterleaveError), name


_LIGHT_IMPORT = """
import sys
import interleave
heavy = sorted(name for name in ("networkx", "tabulate") if name in sys.modules)
print(",".join(heavy))
"""


def test_import_interleave_does_not_import_networkx_or_tabulate() -> None:
    out = subprocess.run(
        [sys.executable, "-c", _LIGHT_IMPORT],
        capture_output=True,
        text=True,
        check=True,
    )

    assert out.stdout.strip() == "", f"`import interleave` imported: {out.stdout.strip()}"


def test_the_light_import_check_can_fail() -> None:
    probe = _LIGHT_IMPORT.replace("import interleave", "import interleave, tabulate")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)

    assert out.stdout.strip() == "tabulate"
