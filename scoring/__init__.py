"""The scoring engine (work in progress)."""
