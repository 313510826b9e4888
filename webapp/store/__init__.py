"""Persistence: the only package that talks to the database (SQLAlchemy, Alembic, the ORM tables).

* :mod:`~webapp.store.database`: engines, session factories, migrations (``migrations/``);
* :mod:`~webapp.store.tables`: the ORM mapping, never seen outside this package;
* :mod:`~webapp.store.runs`: runs stored, queried, filtered and judged, and who may see them;
* :mod:`~webapp.store.catalog`: guideline files and scoring worksheets;
* :mod:`~webapp.store.accounts`: users, the Foundation group, API tokens, public keys;
* :mod:`~webapp.store.testsets`: a run's passed tests, stored compactly;
* :mod:`~webapp.store.cache`: the per-app caches;
* :mod:`~webapp.store.errors`: what the store refuses, as domain errors (no HTTP here).

It imports no HTTP code (Flask, :mod:`webapp.api`, :mod:`webapp.dashboard`): an import-linter
contract checks it.
"""

from sqlalchemy.orm import Session

__all__ = ["Session"]
