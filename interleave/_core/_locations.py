"""Where in the user's code something happened: the first frame outside interleave.

Locations are taken at every yield point, so they are cached per file and line; tracebacks and
exception locations of findings start at the user's code too.
"""

from __future__ import annotations

import os
import traceback
from types import CodeType, FrameType

from ._native import COMPILED_MODULES
from ._ops import Location

__all__ = ["exception_location", "is_internal_file", "user_location", "user_traceback"]


_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep
# Keyed by file name, not by code object: a str caches its hash, while a code object hashes its
# whole contents on every lookup (slower than the rest of a step).
_internal_files: dict[str, bool] = {}
# Per file: its Locations by line, built once, so one line has one Location (the data-race
# detector keys pairs of lines by identity).
_lines: dict[str, dict[int, Location]] = {}
# Per code object, by id: the code and None for interleave's own code, else the code's
# Locations by instruction offset. The entry holds the code, so its id is not reused while the
# entry stands. Keyed by offset because ``frame.f_lineno`` scans the code's line table on every
# read (about 5% of an execution's instructions when read at every yield point), while
# ``f_lasti`` is a plain field.
_codes: dict[int, tuple[CodeType, dict[int, Location] | None]] = {}


def is_internal_file(filename: str) -> bool:
    """Is ``filename`` interleave's own code (not its bundled examples, which are user code)?"""
    flag = _internal_files.get(filename)
    if flag is None:
        # The bundled examples (interleave/_examples in a wheel) are user code, as is the
        # pytest plugin's caller side.
        flag = filename.startswith(_PACKAGE_DIR) and not filename.startswith(
            (_PACKAGE_DIR + "_pytest_plugin", _PACKAGE_DIR + "_examples" + os.sep)
        )
        if not flag:
            # A compiled module's functions appear in tracebacks under their path at build
            # time, relative to the project root ("interleave/_core/_runtime.py").
            flag = filename in COMPILED_MODULES
        _internal_files[filename] = flag
    return flag


def _is_internal(code: CodeType) -> bool:
    return is_internal_file(code.co_filename)


def user_location(frame: FrameType | None) -> Location | None:
    """The first frame outside interleave, as a :class:`Location`."""
    # On the hot path (every yield point): one lookup per frame, one per user frame's offset.
    codes = _codes
    while frame is not None:
        code = frame.f_code
        entry = codes.get(id(code))
        if entry is None:
            internal = is_internal_file(code.co_filename)
            entry = codes[id(code)] = (code, None if internal else {})
        by_offset = entry[1]
        if by_offset is not None:
            offset = frame.f_lasti
            location = by_offset.get(offset)
            if location is None:
                location = by_offset[offset] = _line_location(code, frame.f_lineno)
            return location
        frame = frame.f_back
    return None


def _line_location(code: CodeType, lineno: int) -> Location:
    by_line = _lines.get(code.co_filename)
    if by_line is None:
        by_line = _lines[code.co_filename] = {}
    location = by_line.get(lineno)
    if location is None or location.function != code.co_name:
        # Two functions on one line (a lambda in a def) take turns in the cache.
        location = by_line[lineno] = Location(code.co_filename, lineno, code.co_name)
    return location


def user_traceback(exc: BaseException) -> str:
    """The formatted exception, without interleave's own frames at the top of the stack."""
    tb = exc.__traceback__
    while tb is not None and _is_internal(tb.tb_frame.f_code):
        tb = tb.tb_next
    return "".join(traceback.format_exception(type(exc), exc, tb or exc.__traceback__))


def exception_location(exc: BaseException) -> str:
    """``file.py:line`` of the innermost user-code frame that raised ``exc`` ('' if none)."""
    tb = exc.__traceback__
    where = ""
    while tb is not None:
        if not _is_internal(tb.tb_frame.f_code):
            code = tb.tb_frame.f_code
            where = f"{os.path.basename(code.co_filename)}:{tb.tb_lineno}"
        tb = tb.tb_next
    return where
