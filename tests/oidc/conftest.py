"""The OpenID Connect test provider's own fixtures."""

from tests.oidc_fixtures import oidc_provider  # noqa: F401  (fixture)
