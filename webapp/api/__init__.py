"""The JSON API: RefStack's ``/v1`` (also at ``/api/v1``) and tcup's ``/v2`` (also at ``/api/v2``).

* :mod:`~webapp.api.v1`: ``/v1/results``: upload, list, detail, update, delete, meta keys, compliance;
* :mod:`~webapp.api.v2`: ``/v2/runs``: the extended run documents;
* :mod:`~webapp.api.vendors`, :mod:`~webapp.api.products`: the OpenStack Powered registry
  (``/v1/vendors``, ``/v1/products``), with :mod:`~webapp.api.registry` for what they share;
* :mod:`~webapp.api.guidelines`, :mod:`~webapp.api.profile`, :mod:`~webapp.api.scoring`,
  :mod:`~webapp.api.openapi`: the other ``/v1`` resources;
* :mod:`~webapp.api.requests`: helpers every endpoint shares (the JSON body, links, runs by id);
* :mod:`~webapp.api.schemas`: the request documents' JSON Schemas.

Endpoints read and write through :mod:`webapp.store` only, and raise
:class:`webapp.errors.ApiError` (or let the store's domain errors through, which
:mod:`webapp.errors` answers).
"""

from __future__ import annotations

from flask import Flask

from webapp.api import guidelines, openapi, products, profile, scoring, v1, v2, vendors

V1_BLUEPRINTS = (v1.bp, guidelines.bp, profile.bp, scoring.bp, openapi.bp, vendors.bp, products.bp)


def register(app: Flask) -> None:
    """Mount every blueprint under both of its prefixes."""
    for prefix in ("/v1", "/api/v1"):
        for blueprint in V1_BLUEPRINTS:
            app.register_blueprint(blueprint, url_prefix=prefix, name=f"{blueprint.name}{prefix.replace('/', '_')}")
    for prefix in ("/v2", "/api/v2"):
        app.register_blueprint(v2.bp, url_prefix=prefix, name=f"api_v2{prefix.replace('/', '_')}")


__all__ = ["V1_BLUEPRINTS", "register"]
