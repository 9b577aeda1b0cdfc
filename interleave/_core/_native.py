"""What the rest of the package needs to know about the compiled core.

A wheel built from this source compiles the hot modules (the run loop, the strategies, DPOR's
race analysis, the detectors: :data:`COMPILED_MODULES`) with mypyc; an editable install, or a
machine with no C compiler, runs the same modules as plain Python. Both must behave alike,
and the test suite runs against both (see ``docs/architecture.md``, "The compiled core").

What the code has to allow for:

- A compiled function has no Python frame. ``sys._getframe(0)`` called from compiled code is
  the nearest *interpreted* frame, so code that walks to its caller must not count frames
  (it walks and skips interleave's own files instead).
- ``raise error from cause`` compiled loses the cause (mypy 2.4.1): a compiled module writes
  ``raise caused(error, cause) from cause``, which is right both ways.
- A class attribute that a subclass overrides must be declared ``ClassVar``: compiled, any
  other class-level value is an instance attribute's default, which a subclass's class-level
  value does not change. For the same reason an instance cannot assign a ``ClassVar``.
- A compiled class that is pickled (results, the tasks of a parallel run) carries
  ``@mypyc_attr(allow_interpreted_subclasses=True, serializable=True)``: without
  ``serializable``, unpickling calls ``__init__`` with no arguments, and ``serializable`` on its
  own leaves ``__init__`` uncalled when interpreted code creates an instance (mypy 2.4.1).
- A compiled function or class has no docstring (``help()`` shows none), and a compiled
  function checks its arguments' declared types before its own checks run: public names stay
  in plain modules. A module with a hot private part is split (``instrument/threading/
  _execution.py`` compiled, ``_patch.py``, the public face, plain).
- A compiled function that runs a thread (the greenlet pool's ``serve``) leaves a greenlet
  with no interpreted frame at all: ``sys._getframe`` raises there (see the runtime's
  ``_shim_caller``).
- A compiled class cannot be subclassed by interpreted code unless it says so: the classes
  that the interpreted modules (or users) subclass carry ``@mypyc_attr(allow_interpreted_
  subclasses=True)``. The decorator is a no-op at run time, so ``mypy_extensions`` (a build
  dependency, installed with mypy) is not needed to run interleave.
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
from typing import TYPE_CHECKING, Any, Final, TypeVar

__all__ = ["COMPILED_MODULES", "caused", "compiled", "mypyc_attr"]

_E = TypeVar("_E", bound=BaseException)

if TYPE_CHECKING:
    from mypy_extensions import mypyc_attr
else:

    def mypyc_attr(*_args: Any, **_kwargs: Any) -> Any:
        """No-op stand-in for ``mypy_extensions.mypyc_attr`` (mypyc reads it at build time)."""
        return lambda cls: cls


#: The modules a wheel compiles with mypyc (paths from the project root; hatch_build.py reads
#: this list). They import nothing that is not typed, and no interpreted class that they use
#: as a base.
COMPILED_MODULES: Final = (
    "interleave/_core/_greenlets.py",
    "interleave/_core/_locations.py",
    "interleave/_core/_memo.py",
    "interleave/_core/_names.py",
    "interleave/_core/_observer.py",
    "interleave/_core/_program.py",
    "interleave/_core/_replay.py",
    "interleave/_core/_runtime.py",
    "interleave/_core/_threads.py",
    "interleave/_engine/_dpor.py",
    "interleave/_engine/_explorer.py",
    "interleave/_engine/_races.py",
    "interleave/_engine/_run.py",
    "interleave/_engine/_strategies.py",
    "interleave/detectors/_data_race.py",
    "interleave/detectors/_deadlock.py",
    "interleave/detectors/_lost_update.py",
    "interleave/instrument/_project.py",
    "interleave/instrument/asyncio/_execution.py",
    "interleave/instrument/_swap.py",
    "interleave/instrument/threading/_execution.py",
    "interleave/instrument/threading/_globals.py",
)


def compiled() -> bool:
    """Is this installation's core compiled (mypyc), rather than running as plain Python?"""
    spec = importlib.util.find_spec(__name__.rpartition(".")[0] + "._runtime")
    origin = (spec.origin if spec is not None else None) or ""
    return origin.endswith(tuple(importlib.machinery.EXTENSION_SUFFIXES))


def caused(error: _E, cause: BaseException | None) -> _E:
    """``error`` with ``cause`` as its ``__cause__`` (``None``: no context shown), as ``raise
    error from cause`` would leave it; compiled, that statement drops the cause."""
    error.__cause__ = cause
    return error
