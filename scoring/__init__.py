"""Scoring of interop capabilities: worksheets, weights, statuses, evidence, the board.

The web service uses the functions of :mod:`scoring.api` (plain data in and out); the
``tcup-score`` command (:mod:`scoring.cli`) wraps the same functions.
"""

from scoring.errors import ScoringError

__all__ = ["ScoringError"]
