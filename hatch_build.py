"""Build hook: compile interleave's hot modules with mypyc into the wheel.

The modules listed in ``interleave/_core/_native.py`` (the run loop, the strategies, DPOR's
race analysis, the detectors, what runs around every execution) are compiled to C extensions
with mypyc, as Black and mypy ship themselves; the ``.py`` sources stay in the wheel beside
them. Compiled, an exploration runs about 2 to 2.6 times as fast
(``benchmarks/bench_compiled.py``), and it is the same code: the test suite runs against both
builds.

- **Editable installs** (``pip install -e .``, what ``make`` creates) stay plain Python, so an
  edited ``.py`` file takes effect at once; nothing is written into the source tree.
- ``INTERLEAVE_PURE_PYTHON=1`` builds a plain-Python wheel (``py3-none-any``).
- A machine with no C compiler (or a Python whose stubs mypy refuses a module under) gets a
  plain-Python wheel and a warning, not a failed install.
  ``interleave --version`` says which core an installation has.
"""

from __future__ import annotations

import ast
import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

# mypy's own options for the build: the runtime dependencies and their stubs are not installed
# in the build environment; the package itself passes ``mypy --strict`` (make typecheck).
_MYPY_CONFIG = "[mypy]\npython_version = {major}.{minor}\nignore_missing_imports = True\n"


def _modules(root: Path) -> list[str]:
    """The list in ``interleave/_core/_native.py``, read without importing the package."""
    tree = ast.parse((root / "interleave" / "_core" / "_native.py").read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.AnnAssign) and getattr(node.target, "id", "") == "COMPILED_MODULES":
            return list(ast.literal_eval(node.value))  # type: ignore[arg-type]
    raise RuntimeError("interleave/_core/_native.py has no COMPILED_MODULES")


class CompiledCoreHook(BuildHookInterface):  # type: ignore[type-arg]
    """Compile the hot modules with mypyc when building a (non-editable) wheel."""

    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        if self.target_name != "wheel" or version == "editable":
            return
        if os.environ.get("INTERLEAVE_PURE_PYTHON", "") not in ("", "0"):
            return
        self._temp = tempfile.mkdtemp(prefix="interleave-mypyc-")
        try:
            built = self._compile(Path(self.root), Path(self._temp))
        # No compiler or headers (an Exception), or mypy refusing a module under this Python's
        # stubs (mypyc exits, SystemExit): a plain-Python wheel still works. (check-install
        # asserts the compiled core, so CI still fails on the second kind.)
        except (Exception, SystemExit) as error:
            cause = "mypy's errors above" if isinstance(error, SystemExit) else error
            print(
                "interleave: compiling the core with mypyc failed; building a plain-Python "
                f"wheel (slower: see benchmarks/bench_compiled.py). Cause: {cause}",
                file=sys.stderr,
            )
            return
        build_data["pure_python"] = False
        build_data["infer_tag"] = True
        build_data["force_include"].update(built)

    def finalize(self, version: str, build_data: dict[str, Any], artifact_path: str) -> None:
        temp = getattr(self, "_temp", None)
        if temp is not None:
            shutil.rmtree(temp, ignore_errors=True)

    def _compile(self, root: Path, temp: Path) -> dict[str, str]:
        """Build the extensions under ``temp``; {built file: its path in the wheel}."""
        from mypyc.build import mypycify
        from setuptools import Distribution

        config = temp / "mypy.ini"
        major, minor = sys.version_info[:2]
        config.write_text(_MYPY_CONFIG.format(major=major, minor=minor), encoding="utf-8")
        lib, objects = temp / "lib", temp / "objects"
        cwd = os.getcwd()
        # The paths given to mypyc are relative to the project root: they are the file names
        # compiled functions show in tracebacks, which interleave recognises as its own.
        os.chdir(root)
        try:
            extensions = mypycify(
                ["--config-file", str(config), *_modules(root)],
                opt_level="3",
                # One shared library beside the package (mypyc derives the modules' __file__ from
                # its folder, so it cannot go inside the package).
                group_name="interleave_core",
                target_dir=str(temp / "c"),
            )
            dist = Distribution({"name": "interleave-core", "ext_modules": extensions})
            dist.script_name = "hatch_build.py"
            dist.script_args = ["build_ext", "--build-lib", str(lib), "--build-temp", str(objects)]
            dist.parse_command_line()
            dist.run_commands()
        finally:
            os.chdir(cwd)
        built = {str(path): path.relative_to(lib).as_posix() for path in lib.rglob("*.so")}
        built.update({str(p): p.relative_to(lib).as_posix() for p in lib.rglob("*.pyd")})
        if not built:
            raise RuntimeError("mypyc produced no extension modules")
        return built
