"""What counts as the user's *project code*, for one exploration.

Two instruments only look at project code: attribute tracing (an attribute access is a step
only when the accessing line is project code, and ``trace_attributes=True`` watches the classes
of project modules) and the threading patch (locks held in project modules' globals and class
attributes are swapped for scheduled stand-ins).

The project is decided from where the code lives, never from the working directory:

- the module of the scenario factory, and the top-level package that contains it, always
  belong to it (also when they are installed in ``site-packages``, and also test modules);
- so does everything named by ``explore(..., project=[...])`` (packages or paths);
- any other file belongs to it unless it is part of the standard library, of interleave
  itself, or of an installed distribution (under a ``site-packages``/``dist-packages``
  directory, or claimed by a ``*.dist-info`` record beside it, as ``pip install --target``
  leaves it).
"""

from __future__ import annotations

import contextlib
import functools
import importlib.util
import os
import site
import sys
import sysconfig
from collections.abc import Callable, Iterable
from types import ModuleType
from typing import Any

from .._core._runtime import Runtime
from ..errors import InvalidArgument

__all__ = [
    "Project",
    "bind_project",
    "default_project",
    "modules_with_work",
    "project_of",
    "scenario_project",
]

_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep
# The bundled example scenarios (``interleave/_examples`` in a wheel) are user code.
_EXAMPLES_DIR = _PACKAGE_DIR + "_examples" + os.sep
_INSTALL_DIR_NAMES = frozenset({"site-packages", "dist-packages"})


def _dirs(paths: Iterable[str | None]) -> tuple[str, ...]:
    return tuple(sorted({os.path.abspath(p) + os.sep for p in paths if p}))


def _stdlib_dirs() -> tuple[str, ...]:
    paths = sysconfig.get_paths()
    return _dirs([paths.get("stdlib"), paths.get("platstdlib"), os.path.dirname(os.__file__)])


def _site_dirs() -> tuple[str, ...]:
    paths = sysconfig.get_paths()
    found: list[str | None] = [paths.get("purelib"), paths.get("platlib")]
    with contextlib.suppress(AttributeError):  # some embedded interpreters lack them
        found.extend(site.getsitepackages())
    with contextlib.suppress(AttributeError):
        found.append(site.getusersitepackages())
    return _dirs(found)


_STDLIB_DIRS = _stdlib_dirs()
_SITE_DIRS = _site_dirs()


def is_interleave_file(path: str) -> bool:
    """Is the (absolute) ``path`` interleave's own code (the bundled examples are not)?"""
    return path.startswith(_PACKAGE_DIR) and not path.startswith(_EXAMPLES_DIR)


# ------------------------------------------------------------------ installed distributions
# sys.path entry -> the top-level names (``requests``, ``six.py``) its *.dist-info records claim.
_claims: dict[str, frozenset[str]] = {}


def _claimed_names(root: str) -> frozenset[str]:
    claimed = _claims.get(root)
    if claimed is not None:
        return claimed
    names: set[str] = set()
    with contextlib.suppress(OSError):
        for entry in os.listdir(root):
            if not entry.endswith(".dist-info"):
                continue
            with (
                contextlib.suppress(OSError),
                open(
                    os.path.join(root, entry, "RECORD"), encoding="utf-8", errors="replace"
                ) as record,
            ):
                for row in record:
                    first = row.split(",", 1)[0].replace("\\", "/").split("/", 1)[0]
                    if first and first != ".." and not first.endswith(".dist-info"):
                        names.add(first)
    claimed = _claims[root] = frozenset(names)
    return claimed


_path_roots: tuple[tuple[str, ...], tuple[str, ...]] = ((), ())


def _import_roots() -> tuple[str, ...]:
    """The ``sys.path`` directories, absolute, longest first."""
    global _path_roots
    current = tuple(p for p in sys.path if isinstance(p, str))
    if current != _path_roots[0]:
        roots = sorted({os.path.abspath(p) + os.sep for p in current}, key=len, reverse=True)
        _path_roots = (current, tuple(roots))
    return _path_roots[1]


def _is_installed(path: str) -> bool:
    if _INSTALL_DIR_NAMES.intersection(path.split(os.sep)):
        return True
    if path.startswith(_SITE_DIRS):
        return True
    # ``pip install --target DIR``: no site-packages in the path, but a RECORD beside it.
    for root in _import_roots():
        if path.startswith(root):
            top = path[len(root) :].split(os.sep, 1)[0]
            return top in _claimed_names(root)
    return False


# filename -> is it outside the standard library, interleave and installed distributions?
_outside_libraries: dict[str, bool] = {}


def _is_outside_libraries(filename: str) -> bool:
    flag = _outside_libraries.get(filename)
    if flag is None:
        if filename.startswith("<"):
            # Code compiled from a string (exec, dataclass methods): the user's, unless it is
            # a frozen module of the standard library.
            flag = not filename.startswith("<frozen")
        else:
            path = os.path.abspath(filename)
            flag = not (
                is_interleave_file(path) or path.startswith(_STDLIB_DIRS) or _is_installed(path)
            )
        _outside_libraries[filename] = flag
    return flag


# ------------------------------------------------------------------ the project
class Project:
    """The files and modules that are the user's code for one exploration.

    Args:
        roots: absolute paths (directories end with ``os.sep``) that belong to the project
            whatever the default rule says: the scenario's package, ``project=`` entries.

    Example::

        project = scenario_project(my_scenario, ["myapp"])
        project.contains_file(myapp.models.__file__)     # True
    """

    __slots__ = ("_files", "_modules", "roots")

    def __init__(self, roots: tuple[str, ...] = ()) -> None:
        self.roots = roots
        self._files: dict[str, bool] = {}
        self._modules: tuple[int, list[ModuleType]] = (-1, [])

    def __repr__(self) -> str:
        return f"<Project roots={list(self.roots)}>"

    def contains_file(self, filename: str) -> bool:
        """Is ``filename`` (a code object's ``co_filename``) project code?"""
        flag = self._files.get(filename)
        if flag is None:
            flag = self._files[filename] = self._classify(filename)
        return flag

    def _classify(self, filename: str) -> bool:
        if self.roots and not filename.startswith("<"):
            path = os.path.abspath(filename)
            if is_interleave_file(path):
                return False
            for root in self.roots:
                if path == root or (root.endswith(os.sep) and path.startswith(root)):
                    return True
        return _is_outside_libraries(filename)

    def modules(self) -> list[ModuleType]:
        """The imported modules whose file is project code."""
        count = len(sys.modules)
        if self._modules[0] == count:  # nothing imported since the last look
            return self._modules[1]
        found = []
        for module in list(sys.modules.values()):
            filename = getattr(module, "__file__", None)
            if isinstance(filename, str) and self._classify(filename):
                found.append(module)
        self._modules = (count, found)
        return found

    def describe(self) -> str:
        """The project in words, for messages."""
        base = "every module outside the standard library, site-packages and interleave"
        if not self.roots:
            return base
        named = ", ".join(r.rstrip(os.sep) for r in self.roots)
        return f"{named}, and {base}"


# Projects are interned by their roots: every exploration of the same scenario (and every
# replay) shares one, with its caches.
_projects: dict[tuple[str, ...], Project] = {}
_MAX_PROJECTS = 64


def _interned(roots: tuple[str, ...]) -> Project:
    project = _projects.get(roots)
    if project is None:
        if len(_projects) >= _MAX_PROJECTS:
            _projects.clear()
        project = _projects[roots] = Project(roots)
    return project


def default_project() -> Project:
    """The project when no scenario is known (a ``Runtime`` run directly)."""
    return _interned(())


def _file_root(path: str) -> str:
    return os.path.abspath(path)


def _dir_root(path: str) -> str:
    return os.path.abspath(path) + os.sep


def _package_dir(module: object) -> str | None:
    """The directory of a regular package (None for a module or a namespace package)."""
    filename = getattr(module, "__file__", None)
    if isinstance(filename, str) and getattr(module, "__path__", None) is not None:
        return os.path.dirname(filename)
    return None


def _module_roots(module: ModuleType, name: str) -> list[str]:
    """The module's file and the directory of the outermost regular package above it."""
    filename = getattr(module, "__file__", None)
    if not isinstance(filename, str):
        return []
    roots = [_file_root(filename)]
    top = _package_dir(module)
    parts = name.split(".")
    for i in range(len(parts) - 1, 0, -1):
        parent_name = ".".join(parts[:i])
        if parent_name == "interleave":  # the examples' package is not all of interleave
            break
        parent_dir = _package_dir(sys.modules.get(parent_name))
        if parent_dir is None:  # a namespace package spans other distributions
            break
        top = parent_dir
    if top is not None:
        roots.append(_dir_root(top))
    return roots


def _factory_roots(factory: object) -> list[str]:
    target = factory
    while isinstance(target, functools.partial):
        target = target.func
    code = getattr(getattr(target, "__func__", target), "__code__", None)
    defined_in = getattr(code, "co_filename", None)
    if not isinstance(defined_in, str) or defined_in.startswith("<"):
        defined_in = None
    name = getattr(target, "__module__", None)
    module = sys.modules.get(name) if isinstance(name, str) else None
    module_file = getattr(module, "__file__", None)
    if module is None or not isinstance(name, str) or not isinstance(module_file, str):
        return [] if defined_in is None else [_file_root(defined_in)]
    if defined_in is not None and _file_root(defined_in) != _file_root(module_file):
        # Code compiled under another name into that module's namespace (exec of a page of
        # documentation, a notebook cell): the file it came from is the scenario's.
        return [_file_root(defined_in)]
    if name == "__main__":
        # ``python -m pkg.mod``: the package is known from the module's spec.
        spec = getattr(module, "__spec__", None)
        name = getattr(spec, "name", None) or name
    if name == "interleave" or (
        name.startswith("interleave.") and not name.startswith("interleave._examples")
    ):
        return []
    return _module_roots(module, name)


def _looks_like_module_name(text: str) -> bool:
    return all(part.isidentifier() for part in text.split("."))


def _entry_roots(entry: object) -> list[str]:
    """The roots of one ``project=`` entry: a dotted package/module name or a path."""
    (text,) = project_entries([entry])
    if _looks_like_module_name(text):
        spec = None
        with contextlib.suppress(ImportError, ValueError, AttributeError):
            spec = importlib.util.find_spec(text)
        if spec is not None:
            locations = list(spec.submodule_search_locations or ())
            if locations:
                return [_dir_root(loc) for loc in locations]
            if spec.origin and os.path.isfile(spec.origin):
                return [_file_root(spec.origin)]
    if os.path.isdir(text):
        return [_dir_root(text)]
    if os.path.isfile(text):
        return [_file_root(text)]
    raise InvalidArgument(
        f"project={entry!r} is neither an importable package or module nor an existing "
        f"file or directory (relative paths start at {os.getcwd()}); give a dotted name "
        "such as 'myapp' or a path such as 'src/myapp'"
    )


def _entries(project: object) -> list[object]:
    if project is None:
        return []
    if isinstance(project, str | os.PathLike):
        return [project]
    if isinstance(project, Iterable):
        return list(project)
    raise InvalidArgument(
        f"project={project!r} must be a package name, a path, or a list of them "
        "(e.g. project=['myapp', 'src/helpers'])"
    )


def project_entries(project: object) -> tuple[str, ...]:
    """The ``project=`` value as a tuple of non-empty strings (names or paths), checked.

    Raises:
        InvalidArgument: not a name, a path, or a list of them.
    """
    entries = []
    for entry in _entries(project):
        if isinstance(entry, os.PathLike):
            entry = os.fspath(entry)
        if not isinstance(entry, str) or not entry.strip():
            raise InvalidArgument(
                f"project= entries must be package names or paths, got {entry!r}; e.g. "
                "project=['myapp', 'src/helpers']"
            )
        entries.append(entry.strip())
    return tuple(entries)


def scenario_project(factory: object, project: object = None) -> Project:
    """The project of an exploration of ``factory``, with the extra ``project=`` entries.

    Raises:
        InvalidArgument: an entry names neither an importable module nor an existing path,
            or names interleave itself.
    """
    roots = _factory_roots(factory)
    for entry in _entries(project):
        found = _entry_roots(entry)
        if any(is_interleave_file(r) and r != _EXAMPLES_DIR for r in found):
            raise InvalidArgument(
                f"project={entry!r} names interleave itself, which is never project code"
            )
        roots.extend(found)
    return _interned(tuple(sorted(set(roots))))


class _Bound:
    """The project of one execution (a Runtime slot), and what the exploration's patches
    found worth a look among its modules (see :func:`modules_with_work`)."""

    __slots__ = ("project", "with_work")

    def __init__(self) -> None:
        self.project: Project | None = None
        self.with_work: dict[str, tuple[list[ModuleType], list[ModuleType]]] | None = None


#: A nullcontext keeps no state: one instance serves every execution.
_NOTHING: contextlib.nullcontext[None] = contextlib.nullcontext()


def bind_project(project: Project) -> Any:
    """A per-execution context that makes ``project`` the project of the execution.

    Made once per exploration (``contexts()``): it also keeps, across the exploration's
    executions, which of the project's modules each patch has work in.
    """
    with_work: dict[str, tuple[list[ModuleType], list[ModuleType]]] = {}

    def bind(rt: Runtime) -> contextlib.nullcontext[None]:
        bound = rt.slot(_Bound)
        bound.project = project
        bound.with_work = with_work
        return _NOTHING

    return bind


def modules_with_work(
    rt: Runtime, key: str, has_work: Callable[[ModuleType], bool]
) -> list[ModuleType]:
    """The project's modules in which the patch ``key`` has work (``has_work(module)``).

    Every module is asked at the exploration's first execution and whenever a module was
    imported since; the other executions visit only those that said yes. A project of
    hundreds of modules (a test session's) otherwise cost every execution a look at each:
    150 modules with nothing to swap made a 3 x 3 increments execution 1.7x the bytecodes.
    Between two executions of one exploration only the scenario's own code runs, and what
    it binds in a module while patched is already a scheduled object: nothing to swap.
    """
    bound = rt.slot(_Bound)
    modules = project_of(rt).modules()
    with_work = bound.with_work
    if with_work is None:
        return modules  # no exploration bound a project: every module, every time
    entry = with_work.get(key)
    if entry is None or entry[0] is not modules:  # (a new list: something was imported)
        entry = with_work[key] = (modules, [m for m in modules if has_work(m)])
    return entry[1]


def project_of(rt: Runtime) -> Project:
    """The project of the execution ``rt`` runs (the default one when none was bound)."""
    bound = rt.slot(_Bound)
    if bound.project is None:
        bound.project = default_project()
    return bound.project
