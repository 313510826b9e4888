"""HTML pages for vendors, the Foundation and the board, rendered on the server.

One module per area, all on one blueprint (:data:`~webapp.dashboard.pages.bp`):
:mod:`~webapp.dashboard.results` (the list and a run's page), :mod:`~webapp.dashboard.guidelines`,
:mod:`~webapp.dashboard.scoring`, :mod:`~webapp.dashboard.clouds`, :mod:`~webapp.dashboard.signin`,
:mod:`~webapp.dashboard.oidc` (OpenID Connect sign-in), :mod:`~webapp.dashboard.profile` (tokens and keys),
:mod:`~webapp.dashboard.registry` (the OpenStack Powered registry, vendors, products, review, badges);
what they share is in :mod:`~webapp.dashboard.pages`, the page models in
:mod:`~webapp.dashboard.models` and :mod:`~webapp.dashboard.diff`, the SVG charts in
:mod:`~webapp.dashboard.charts`.
"""

from __future__ import annotations

from flask import Flask

from webapp.dashboard import (  # noqa: F401  (their routes)
    clouds,
    guidelines,
    oidc,
    profile,
    registry,
    results,
    scoring,
    signin,
)
from webapp.dashboard.pages import COOKIE, bp, init_caches, page_caller


def register(app: Flask) -> None:
    """Mount the pages and give the app its dashboard caches."""
    init_caches(app)
    oidc.init_app(app)
    app.register_blueprint(bp)


__all__ = ["COOKIE", "bp", "page_caller", "register"]
