"""What the store refuses, as domain errors: no HTTP status here.

The API and the dashboard translate each of them once, in :mod:`webapp.errors`; the
command line prints their message.
"""

from __future__ import annotations


class StoreError(Exception):
    """Something the store cannot do with the values it was given; ``str()`` is the message."""


class AlreadyExists(StoreError):
    """A unique thing (a user's openid, a public key) is already stored."""


class NotFound(StoreError):
    """The run (or other row) named does not exist, or no longer does."""


class DatabaseUnavailable(StoreError):
    """The database cannot be reached, opened or written; ``str()`` says what to fix."""


__all__ = ["AlreadyExists", "DatabaseUnavailable", "NotFound", "StoreError"]
