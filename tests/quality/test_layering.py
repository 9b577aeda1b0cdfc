"""The layering of ARCHITECTURE.md, checked on the source with the AST.

Every module under ``interleave/`` is assigned a layer; a module may import only modules of the
same or a lower layer. Third-party libraries each live behind one module. A new module that no
rule covers fails the test until it is given a layer here (and in ARCHITECTURE.md).
"""

from __future__ import annotations

import ast
import functools
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

# The source tree (not the imported package: the compiled run imports a wheel's copy, which
# also holds the bundled examples).
ROOT = Path(__file__).resolve().parents[2]
PACKAGE_DIR = ROOT / "interleave"

#: (path relative to the repository, layer). A path ending in "/" covers a directory; the
#: first rule that matches wins, so specific files come before their directory.
LAYER_RULES: tuple[tuple[str, int], ...] = (
    ("interleave/errors.py", 1),
    ("interleave/_version.py", 1),
    ("interleave/_core/", 2),
    ("interleave/detectors/__init__.py", 6),
    ("interleave/instrument/__init__.py", 6),
    ("interleave/detectors/", 3),
    ("interleave/instrument/", 3),
    ("interleave/_engine/", 4),
    ("interleave/_api.py", 5),
    ("interleave/_contrast.py", 5),
    ("interleave/_execution.py", 5),
    ("interleave/_worker.py", 5),
    ("interleave/_estimating.py", 5),
    ("interleave/_progress.py", 5),
    ("interleave/_health.py", 5),
    ("interleave/_report/", 5),
    ("interleave/_results.py", 5),
    ("interleave/_scenario.py", 5),
    ("interleave/_linearizability/", 5),
    ("interleave/__init__.py", 6),
    ("interleave/sqlite.py", 6),
    ("interleave/models.py", 6),
    ("interleave/_pytest_plugin.py", 7),
    ("interleave/_cli/", 7),
    ("interleave/__main__.py", 7),
    # Example scenarios are user code: they import the public package.
    ("interleave/_examples/", 7),
    ("interleave/_examples.py", 7),
)

LAYER_NAMES = {
    1: "errors",
    2: "core",
    3: "detectors/instrument",
    4: "engine",
    5: "api/report/results",
    6: "re-exports",
    7: "adapters (pytest plugin, CLI)",
}

#: Third-party (and sqlite3) imports: who may import them.
ALLOWED_THIRD_PARTY: dict[str, tuple[str, ...]] = {
    "greenlet": ("interleave/_core/",),
    "networkx": ("interleave/detectors/_deadlock.py",),
    "tabulate": ("interleave/_report/",),
    "tqdm": ("interleave/_cli/_console.py",),
    "sqlite3": ("interleave/instrument/sqlite/",),
    "hypothesis": ("interleave/_linearizability/_scenarios.py",),
    "pytest": ("interleave/_pytest_plugin.py",),
    # The optional Dask extra, imported only inside a Dask worker (statistics.retried).
    "distributed": ("interleave/_worker.py",),
    "_pytest": ("interleave/_pytest_plugin.py",),
    # mypyc's class decorator, for the type checker and the compiler only (a no-op at run time).
    "mypy_extensions": ("interleave/_core/_native.py",),
    # The pytest entry point (a top-level module, so that loading it imports no interleave).
    "_interleave_pytestplugin": ("interleave/_pytest_plugin.py",),
}


@dataclass(frozen=True)
class Import:
    module: str  # the importing module's file, relative to the repository
    target: str  # absolute dotted name of what it imports
    lineno: int


def _relpath(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _source_files() -> list[Path]:
    return sorted(p for p in PACKAGE_DIR.rglob("*.py") if "__pycache__" not in p.parts)


@functools.cache
def _known_modules() -> frozenset[str]:
    return frozenset(_module_name(p) for p in _source_files())


@functools.cache
def _imports(path: Path) -> list[Import]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    known = _known_modules()
    found: list[Import] = []
    rel = _relpath(path)
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend(Import(rel, alias.name, node.lineno) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base_parts = package.split(".")
                if node.level > 1:
                    base_parts = base_parts[: len(base_parts) - (node.level - 1)]
                base = ".".join(base_parts)
                target = f"{base}.{node.module}" if node.module else base
            else:
                target = node.module or ""
            for alias in node.names:
                # ``from . import _context`` imports a submodule: judge the submodule.
                sub = f"{target}.{alias.name}"
                found.append(Import(rel, sub if sub in known else target, node.lineno))
    return found


def layer_of_path(rel: str) -> int | None:
    for prefix, layer in LAYER_RULES:
        if rel == prefix or (prefix.endswith("/") and rel.startswith(prefix)):
            return layer
    return None


def _path_of_module(dotted: str) -> str | None:
    parts = dotted.split(".")
    as_file = ROOT.joinpath(*parts).with_suffix(".py")
    if as_file.exists():
        return _relpath(as_file)
    as_package = ROOT.joinpath(*parts, "__init__.py")
    if as_package.exists():
        return _relpath(as_package)
    return None


FILES = _source_files()
IDS = [_relpath(p) for p in FILES]


def test_the_package_has_modules() -> None:
    assert "interleave/_core/_runtime.py" in IDS
    assert "interleave/__init__.py" in IDS


@pytest.mark.parametrize("path", FILES, ids=IDS)
def test_every_module_has_a_layer(path: Path) -> None:
    rel = _relpath(path)
    assert layer_of_path(rel) is not None, (
        f"{rel} has no layer. Add it to LAYER_RULES in tests/quality/test_layering.py "
        "(and to the layer table of ARCHITECTURE.md): which layer may it import from, and "
        "which may import it?"
    )


#: Known violations, each reported with its fix; the mark flips to a failure once it is fixed.
KNOWN_VIOLATIONS: dict[str, str] = {}


def _with_known_violations() -> list[object]:
    return [
        pytest.param(
            path,
            id=rel,
            marks=[pytest.mark.xfail(strict=True, reason=KNOWN_VIOLATIONS[rel])]
            if rel in KNOWN_VIOLATIONS
            else [],
        )
        for path, rel in zip(FILES, IDS, strict=True)
    ]


@pytest.mark.parametrize("path", _with_known_violations())
def test_modules_import_only_same_or_lower_layers(path: Path) -> None:
    rel = _relpath(path)
    if layer_of_path(rel) is None:
        pytest.fail(f"{rel} has no layer (see test_every_module_has_a_layer)")
    problems = layer_violations(rel, _imports(path))
    assert not problems, (
        "imports against the layering of ARCHITECTURE.md (a module may import only its own "
        "or lower layers; move the code down, or import it lazily from a higher layer):\n  "
        + "\n  ".join(problems)
    )


def layer_violations(rel: str, imports: list[Import]) -> list[str]:
    """One line per import of ``rel`` that reaches a higher layer."""
    mine = layer_of_path(rel)
    assert mine is not None
    problems: list[str] = []
    for imp in imports:
        if imp.target != "interleave" and not imp.target.startswith("interleave."):
            continue
        target_path = _path_of_module(imp.target)
        assert target_path is not None, f"{rel}:{imp.lineno} imports unknown {imp.target}"
        theirs = layer_of_path(target_path)
        if theirs is None:
            continue  # reported by test_every_module_has_a_layer
        if theirs > mine:
            problems.append(
                f"{rel}:{imp.lineno} (layer {mine}, {LAYER_NAMES[mine]}) imports "
                f"{imp.target} (layer {theirs}, {LAYER_NAMES[theirs]})"
            )
    return list(dict.fromkeys(problems))


@pytest.mark.parametrize("path", FILES, ids=IDS)
def test_detectors_and_instrument_are_independent_of_each_other_and_the_engine(
    path: Path,
) -> None:
    rel = _relpath(path)
    forbidden = {
        "interleave/detectors/": ("interleave.instrument", "interleave._engine"),
        "interleave/instrument/": ("interleave.detectors", "interleave._engine"),
    }
    for prefix, targets in forbidden.items():
        if not rel.startswith(prefix):
            continue
        bad = [
            f"{rel}:{imp.lineno} imports {imp.target}"
            for imp in _imports(path)
            if any(imp.target == t or imp.target.startswith(t + ".") for t in targets)
        ]
        assert not bad, "detectors/ and instrument/ must not import each other or _engine/: " + (
            "; ".join(bad)
        )


#: Modules that import nothing of interleave, so that any module may import them. The threading
#: patch's captured originals must be importable before anything of interleave can patch.
LEAF_MODULES = (
    "interleave/errors.py",
    "interleave/_version.py",
    "interleave/instrument/threading/_originals.py",
)


@pytest.mark.parametrize("rel", LEAF_MODULES)
def test_leaf_modules_import_nothing_of_interleave(rel: str) -> None:
    path = ROOT / rel
    assert path.exists(), f"{rel} is listed in LEAF_MODULES but does not exist"
    inner = [
        f"{rel}:{imp.lineno} imports {imp.target}"
        for imp in _imports(path)
        if imp.target == "interleave" or imp.target.startswith("interleave.")
    ]
    assert not inner, "a leaf module imports interleave: " + "; ".join(inner)


@pytest.mark.parametrize("path", FILES, ids=IDS)
def test_third_party_libraries_sit_behind_one_module(path: Path) -> None:
    rel = _relpath(path)
    stdlib = sys.stdlib_module_names
    problems = []
    for imp in _imports(path):
        top = imp.target.partition(".")[0]
        if top == "interleave" or top == "__future__":
            continue
        allowed = ALLOWED_THIRD_PARTY.get(top)
        if allowed is None:
            if top in stdlib:
                continue
            problems.append(
                f"{rel}:{imp.lineno} imports {top}, which is not a declared dependency "
                "(add it to pyproject.toml and to ALLOWED_THIRD_PARTY, after review)"
            )
        elif not any(rel == a or rel.startswith(a) for a in allowed):
            problems.append(
                f"{rel}:{imp.lineno} imports {top}, which only {', '.join(allowed)} may import"
            )
    assert not problems, "\n".join(problems)


#: The modules of the SQLite package, lowest first: one seam each. A module may import only the
#: modules before it, so the seams stay apart and there is no cycle between them.
SQLITE_ORDER: tuple[str, ...] = (
    "_raw",
    "_analysis",
    "_rows",
    "_identity",
    "_lost_updates",
    "_state",
    "_locks",
    "_cursor",
    "_connection",
    "_patch",
    "_template",
)
SQLITE_PACKAGE = "interleave.instrument.sqlite"


def test_every_sqlite_module_has_a_place_in_the_order() -> None:
    found = {p.stem for p in (PACKAGE_DIR / "instrument" / "sqlite").glob("*.py")}
    assert found - {"__init__"} == set(SQLITE_ORDER), (
        "add the new module of interleave/instrument/sqlite/ to SQLITE_ORDER in "
        "tests/quality/test_layering.py (and to the list in its package docstring)"
    )


@pytest.mark.parametrize("name", ["__init__", *SQLITE_ORDER])
def test_sqlite_modules_import_only_the_modules_before_them(name: str) -> None:
    path = PACKAGE_DIR / "instrument" / "sqlite" / f"{name}.py"
    below = set(SQLITE_ORDER[: SQLITE_ORDER.index(name)]) if name in SQLITE_ORDER else set()
    bad = [
        f"{_relpath(path)}:{imp.lineno} imports {imp.target}"
        for imp in _imports(path)
        if (imp.target == SQLITE_PACKAGE or imp.target.startswith(SQLITE_PACKAGE + "."))
        and imp.target.rpartition(".")[2] not in below
    ]
    assert not bad, "imports against SQLITE_ORDER (lowest first): " + "; ".join(bad)


# ---------------------------------------------------------------------------- the checker itself


def test_layer_rules_map_known_paths() -> None:
    assert layer_of_path("interleave/errors.py") == 1
    assert layer_of_path("interleave/_core/_new.py") == 2
    assert layer_of_path("interleave/instrument/_sqlite.py") == 3
    assert layer_of_path("interleave/instrument/_threading_queue.py") == 3
    assert layer_of_path("interleave/detectors/__init__.py") == 6
    assert layer_of_path("interleave/_engine/_dpor_tree.py") == 4
    assert layer_of_path("interleave/_report/_summary.py") == 5
    assert layer_of_path("interleave/sqlite.py") == 6
    assert layer_of_path("interleave/_examples/bank.py") == 7
    assert layer_of_path("interleave/_new_thing.py") is None


def test_relative_imports_are_resolved(tmp_path: Path) -> None:
    # The real package's own modules give a known answer.
    runtime = PACKAGE_DIR / "_core" / "_runtime.py"
    targets = {imp.target for imp in _imports(runtime)}

    assert "interleave.errors" in targets
    assert "interleave._core._context" in targets  # ``from . import _context``
    assert "interleave._core._findings" in targets
    assert "greenlet" in targets

    locks = PACKAGE_DIR / "instrument" / "_locks.py"
    assert "interleave._core._runtime" in {imp.target for imp in _imports(locks)}


def test_upward_imports_are_reported_and_downward_ones_are_not() -> None:
    core = "interleave/_core/_trace.py"
    imports = [
        Import(core, "interleave.errors", 1),
        Import(core, "interleave._core._ops", 2),
        Import(core, "interleave._engine._explorer", 3),
        Import(core, "interleave", 4),
        Import(core, "os", 5),
    ]

    problems = layer_violations(core, imports)

    assert problems == [
        f"{core}:3 (layer 2, core) imports interleave._engine._explorer (layer 4, engine)",
        f"{core}:4 (layer 2, core) imports interleave (layer 6, re-exports)",
    ]


def _runtime_imports(path: Path) -> list[Import]:
    """The imports that run: those under ``if TYPE_CHECKING:`` are for the type checker."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    typing_only: set[int] = set()
    for node in ast.walk(tree):
        test = node.test if isinstance(node, ast.If) else None
        if (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
            isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
        ):
            typing_only.update(
                n.lineno for n in ast.walk(node) if isinstance(n, ast.Import | ast.ImportFrom)
            )
    return [imp for imp in _imports(path) if imp.lineno not in typing_only]


def test_no_import_cycles() -> None:
    # Same-layer modules may import each other, but never in a circle (function-level imports
    # included): a cycle means two modules that are really one, or a seam in the wrong place.
    import networkx as nx

    graph: nx.DiGraph[str] = nx.DiGraph()
    for path in FILES:
        source = _module_name(path)
        graph.add_node(source)
        for imp in _runtime_imports(path):
            target = imp.target
            if target.startswith("interleave") and target != source and _path_of_module(target):
                graph.add_edge(source, target)
    cycles = sorted((c for c in nx.simple_cycles(graph)), key=len)
    assert not cycles, "import cycles:\n  " + "\n  ".join(" -> ".join(c) for c in cycles[:10])


#: The most lines a module of interleave may have: past it, it holds more than one idea.
MAX_LINES = 600


@pytest.mark.parametrize("path", FILES, ids=IDS)
def test_no_module_is_over_600_lines(path: Path) -> None:
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_LINES, (
        f"{_relpath(path)} has {lines} lines (at most {MAX_LINES}): split it along its seams"
    )
