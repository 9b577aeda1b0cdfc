"""Loading what the command line names: scenario factories, their modules and DEMO lists.

A TARGET is ``FILE.py:factory`` (a path) or ``module:factory`` (a dotted module importable from
the current directory); ``report`` and ``demo`` also take a module or file alone, standing for
every factory of its ``DEMO`` list. Files are imported under a private module name (so a file
called ``random.py`` never replaces a real module), with their folder first on ``sys.path``, as
``python FILE`` would. ``benchmarks/run_all.py`` loads its benchmark files with
:func:`load_file` too.

Every problem with a TARGET is a :class:`UsageError` (one line, exit status 2); an exception
raised while the user's module is imported propagates unchanged, with its traceback.
"""

from __future__ import annotations

import ast
import contextlib
import importlib
import importlib.util
import inspect
import os
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

from .._api import Scenario
from .._scenario import not_a_factory
from .._worker import import_package_file
from ._console import UsageError

__all__ = [
    "Factory",
    "declares_demo",
    "demo_factories",
    "display_path",
    "import_module",
    "is_file_target",
    "load_file",
    "load_module",
    "load_target",
    "target_key",
]

Factory = Callable[[], object]

TARGET_HELP = (
    "the scenario factory: FILE.py:factory (a path) or module:factory (a dotted module "
    "importable from the current directory)"
)


def is_file_target(module_part: str) -> bool:
    """Does the part before ``:factory`` name a file (rather than a dotted module)?"""
    return module_part.endswith(".py") or "/" in module_part or os.sep in module_part


def split_target(target: str) -> tuple[str, str]:
    """``FILE.py:factory`` or ``module:factory`` as (file or module, factory)."""
    module_part, colon, attr = target.rpartition(":")
    if not colon or not module_part or not attr:
        hint = (
            f"; name the factory after a colon, e.g. {target}:my_scenario"
            if target.endswith(".py") or (colon and not attr)
            else ""
        )
        raise UsageError(
            f"TARGET {target!r} must be FILE.py:factory or module:factory, "
            f"e.g. examples/bank_transfer.py:unlocked{hint}"
        )
    return module_part, attr


def _private_name(path: Path) -> str:
    # A private name, so a file called random.py or test.py never replaces a real module.
    stem = "".join(c if c.isalnum() else "_" for c in path.stem)
    return f"_interleave_target_{stem}"


def load_file(path: Path, name: str | None = None) -> ModuleType:
    """Import ``path`` as a module (its directory first on ``sys.path``, as ``python FILE``
    would) and return it.

    Args:
        path: the ``.py`` file.
        name: the module's name in ``sys.modules`` (default: a private name made from the
            file's, so that it never replaces a real module).

    Raises:
        UsageError: the file does not exist or is not a Python file.
    """
    if not path.is_file():
        where = "" if path.is_absolute() else f" (relative to {Path.cwd()})"
        raise UsageError(
            f"file {str(path)!r} does not exist{where}; give the path of the .py file "
            "that defines the scenario factory"
        )
    resolved = path.resolve()
    if name is None:
        # A file inside a package is imported by its dotted name (its relative imports then
        # work), as pytest imports test files.
        module = import_package_file(resolved)
        if module is not None:
            return module
    folder = str(resolved.parent)
    if folder not in sys.path:
        sys.path.insert(0, folder)
    name = name or _private_name(resolved)
    spec = importlib.util.spec_from_file_location(name, resolved)
    if spec is None or spec.loader is None:
        raise UsageError(f"cannot import {str(path)!r}: it is not a Python source file (.py)")
    module = importlib.util.module_from_spec(spec)
    # Registered so that dataclasses, pickling and typing can find the module by name.
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(name, None)
        raise
    return module


def import_module(dotted: str) -> ModuleType:
    """Import ``dotted`` with the current directory on ``sys.path``.

    Raises:
        UsageError: the module named (or a parent package) does not exist. A missing import
            inside the user's module is their bug and keeps its traceback.
    """
    cwd = os.getcwd()
    if cwd not in sys.path and "" not in sys.path:
        sys.path.insert(0, cwd)
    try:
        return importlib.import_module(dotted)
    except ModuleNotFoundError as exc:
        if exc.name is not None and (dotted == exc.name or dotted.startswith(exc.name + ".")):
            raise UsageError(
                f"no module named {dotted!r} importable from {cwd}; give a path such as "
                f"{dotted.replace('.', '/')}.py:factory, or run interleave from the directory "
                "that contains the module"
            ) from None
        raise


def load_module(module_part: str) -> ModuleType:
    """The module a TARGET names before its ``:factory`` (a file or a dotted module)."""
    return (
        load_file(Path(module_part)) if is_file_target(module_part) else import_module(module_part)
    )


def _functions(module: ModuleType) -> list[str]:
    return sorted(
        name
        for name, value in vars(module).items()
        if inspect.isfunction(value)
        and not name.startswith("_")
        and getattr(value, "__module__", None) == module.__name__
    )


def check_factory(value: object, name: str) -> Factory:
    """``value`` if it can be a scenario factory: callable, not a Scenario, no arguments.

    Raises:
        UsageError: it is not.
    """
    if isinstance(value, Scenario):
        raise UsageError(
            f"{name!r} is a Scenario, not a scenario factory: TARGET must name the function "
            "that builds fresh state and returns the Scenario (each execution calls it again)"
        )
    kind = not_a_factory(value)
    if kind is not None:
        raise UsageError(
            f"{name!r} is {kind}, not a scenario factory: TARGET must name a function that "
            "builds fresh state and returns interleave.Scenario"
        )
    if not callable(value):
        raise UsageError(
            f"{name!r} is a {type(value).__name__}, not a scenario factory: TARGET must name "
            "a function that builds fresh state and returns interleave.Scenario"
        )
    required = _required_parameters(value)
    if required:
        short = name.rpartition(":")[2] or name
        raise UsageError(
            f"{name!r} takes arguments ({', '.join(required)}), but a scenario factory is "
            f"called with none; name a function that calls it, e.g. "
            f"def scenario(): return {short}(...)"
        )
    return value


def _required_parameters(value: Callable[..., object]) -> list[str]:
    try:
        signature = inspect.signature(value)
    except (TypeError, ValueError):  # a builtin or an extension type: let explore() call it
        return []
    return [
        name
        for name, p in signature.parameters.items()
        if p.default is inspect.Parameter.empty
        and p.kind not in (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)
    ]


def load_target(target: str) -> Factory:
    """The scenario factory named by ``target`` (``FILE.py:factory`` or ``module:factory``).

    Raises:
        UsageError: the target is malformed, the file or module or attribute is missing, or
            the attribute is not a factory (not callable, a Scenario, or it takes arguments).
            Exceptions raised while the user's module is imported propagate unchanged.
    """
    module_part, attr = split_target(target)
    module = load_module(module_part)
    value: Any = module
    for part in attr.split("."):
        try:
            value = getattr(value, part)
        except AttributeError:
            known = ", ".join(_functions(module)) or "none"
            raise UsageError(
                f"{module_part!r} has no attribute {attr!r}; its functions are: {known}"
            ) from None
    return check_factory(value, target)


def target_key(target: str) -> str:
    """The schedule database's key of a TARGET: a file by its absolute path (the same file
    typed two ways is one scenario), a module by its dotted name."""
    module_part, _, attr = target.rpartition(":")
    if is_file_target(module_part):
        return f"{Path(module_part).resolve()}:{attr}"
    return target


def declares_demo(path: Path) -> bool:
    """Does the module in ``path`` assign ``DEMO`` at its top level? (Read, not imported.)"""
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    except (OSError, SyntaxError, ValueError):
        return False
    for node in tree.body:
        targets = (
            node.targets
            if isinstance(node, ast.Assign)
            else [node.target]
            if isinstance(node, ast.AnnAssign)
            else []
        )
        if any(isinstance(t, ast.Name) and t.id == "DEMO" for t in targets):
            return True
    return False


def demo_factories(module: ModuleType, where: str) -> list[Factory]:
    """The factories of ``module``'s ``DEMO`` list, each checked.

    Raises:
        UsageError: there is no DEMO list, or it holds something that is not a factory.
    """
    demo = getattr(module, "DEMO", None)
    if demo is None:
        known = ", ".join(_functions(module)) or "none"
        raise UsageError(
            f"{where!r} names no factory and has no DEMO list of factories; write "
            f"{where}:factory (its functions are: {known}) or add DEMO = [factory, ...] to it"
        )
    if not isinstance(demo, list | tuple) or not demo or not all(callable(f) for f in demo):
        raise UsageError(f"{where}: DEMO must be a list of scenario factories, not {demo!r:.60}")
    return [check_factory(f, f"{where}:{getattr(f, '__name__', f)}") for f in demo]


def display_path(path: Path) -> str:
    """``path`` relative to the current directory when it is below it (for replay lines)."""
    resolved = path.resolve()
    with contextlib.suppress(ValueError):
        return str(resolved.relative_to(Path.cwd().resolve()))
    return str(resolved)


def import_from_folder(
    folder: Path, dotted: str, installed: Path | None = None
) -> tuple[ModuleType, bool]:
    """Import ``dotted`` (``package.module``) from the package folder it names in ``folder``,
    under the name that makes its ``module:factory`` targets replay from here.

    The name is, in order: ``folder`` as a dotted path from the current directory
    (``examples.taskboard.scenarios`` in a checkout), the copy installed with interleave
    (``interleave._examples.taskboard.scenarios``, when ``folder`` is ``installed``), else
    ``dotted`` itself with ``folder`` first on ``sys.path``; with it, whether that name
    imports in another process started here (not for the last: it needs ``folder`` on the
    path, so targets must name the file instead).
    """
    resolved = folder.resolve()
    names = []
    with contextlib.suppress(ValueError):
        parts = resolved.relative_to(Path.cwd().resolve()).parts
        if parts and all(part.isidentifier() for part in parts):
            names.append(".".join(parts) + "." + dotted)
    if installed is not None and resolved == installed.resolve():
        names.append("interleave._examples." + dotted)
    cwd = os.getcwd()
    if names and cwd not in sys.path and "" not in sys.path:
        sys.path.insert(0, cwd)
    for name in names:
        with contextlib.suppress(ImportError):
            return importlib.import_module(name), True
    if str(resolved) not in sys.path:
        sys.path.insert(0, str(resolved))
    return importlib.import_module(dotted), False
