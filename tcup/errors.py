"""Errors the runner reports to its user.

Library code raises these; ``tcup.cli`` turns each into one message and an exit code::

    TcupError
     +-- GuidelineSourceError   a guideline could not be found, fetched or read
     +-- TempestNotFound        no usable Tempest installation
     +-- ResolutionError        guideline tests could not be matched to Tempest
     +-- DevcloudError          the loopback cloud could not be installed, started or stopped
     +-- CredentialsError       cloud credentials are missing or wrong
     +-- DiscoveryError         the cloud could not be discovered
     +-- TempestRunError        Tempest or stestr failed to run
     +-- UploadError            the server refused the run or could not be reached
     +-- SigningError           a key could not be read or used
"""

from __future__ import annotations


class TcupError(Exception):
    """Base of every error tcup reports to a user."""

    exit_code = 2


class GuidelineSourceError(TcupError):
    """A guideline could not be found, fetched or parsed."""


class TempestNotFound(TcupError):
    """No usable Tempest installation was found."""


class ResolutionError(TcupError):
    """Guideline tests could not be matched against the installed Tempest."""


class DevcloudError(TcupError):
    """The loopback development cloud could not be installed, started or stopped."""


class CredentialsError(TcupError):
    """Cloud credentials are missing, incomplete or refused."""


class DiscoveryError(TcupError):
    """The cloud's catalog or services could not be discovered."""


class TempestRunError(TcupError):
    """Tempest or stestr could not be run to completion."""


class UploadError(TcupError):
    """The server refused the run or could not be reached."""


class SigningError(TcupError):
    """A signing key could not be read or used."""
