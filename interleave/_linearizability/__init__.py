"""Linearizability checking: ``check_linearizable``, ``replay_linearizable`` and the models.

The public names are re-exported by ``interleave`` and ``interleave.models``.
"""
