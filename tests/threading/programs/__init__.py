"""Unmodified threaded programs: plain ``threading``/``queue`` code, no interleave import.

Each module holds a buggy version and its fix. The tests in ``tests/threading`` run them under
``interleave.explore`` with the threading patch on.
"""
