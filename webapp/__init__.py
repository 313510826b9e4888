"""The collector service: a RefStack-compatible API (work in progress)."""
