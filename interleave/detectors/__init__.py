"""Detectors: they watch executions and report findings; they never steer the scheduler."""

from ._data_race import DataRaceDetector as DataRaceDetector
from ._deadlock import DeadlockDetector as DeadlockDetector
from ._deadlock import build_wait_graph as build_wait_graph
from ._lost_update import LostUpdateDetector as LostUpdateDetector

__all__ = ["DataRaceDetector", "DeadlockDetector", "LostUpdateDetector", "build_wait_graph"]
