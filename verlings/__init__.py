"""verlings: the course harness (target selection, grading, reports, fixtures)."""

from verlings.target import learner_module

__all__ = ["learner_module"]
