"""Sequential specifications (models) for :func:`interleave.check_linearizable`.

A model is a plain class with the methods of the object under test, made fresh for every
history the check looks at. These cover the primitives most objects are built on; write your
own the same way (see the linearizability guide).

Example::

    from interleave.models import CacheModel, CounterModel, QueueModel

    result = interleave.check_linearizable(make_counter, CounterModel, ["increment", "get"])
"""

import contextlib

from ._linearizability._models import CacheModel as CacheModel
from ._linearizability._models import CounterModel as CounterModel
from ._linearizability._models import QueueModel as QueueModel

__all__ = ["CacheModel", "CounterModel", "QueueModel"]

for _name in __all__:
    with contextlib.suppress(AttributeError, TypeError):
        globals()[_name].__module__ = __name__
del _name
