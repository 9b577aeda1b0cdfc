"""``python -m interleave``: the same command line as the ``interleave`` script."""

from ._cli import main

if __name__ == "__main__":
    raise SystemExit(main())
