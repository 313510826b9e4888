"""Sign uploads the way RefStack verifies them.

The scheme: an RSA PKCS#1 v1.5 signature with SHA-256 over the exact body bytes, sent as
lowercase hex in ``X-Signature``, with the public key as one OpenSSH line (``ssh-rsa <base64>``,
no comment) in ``X-Public-Key``. Key registration uses the same scheme over the nine bytes
``signature`` (:func:`self_signature`).

Better than refstack-client: OpenSSH (``-----BEGIN OPENSSH PRIVATE KEY-----``) and PEM keys are
both read, passphrase-protected ones too (passphrase from a callback, typically a prompt, or
``$TCUP_KEY_PASSPHRASE``), and every failure says which key and what to do.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from tcup.credentials import Secret
from tcup.errors import SigningError

__all__ = [
    "PASSPHRASE_ENV",
    "SELF_SIGNATURE_BODY",
    "load_private_key",
    "public_key_line",
    "self_signature",
    "sign_body",
]

PASSPHRASE_ENV = "TCUP_KEY_PASSPHRASE"
SELF_SIGNATURE_BODY = b"signature"
_KEYGEN_HINT = "create one with `ssh-keygen -t rsa -b 4096 -f ~/.ssh/tcup_rsa`"


def load_private_key(
    path: str | Path,
    *,
    passphrase: Secret | None = None,
    ask_passphrase: Callable[[str], str] | None = None,
) -> rsa.RSAPrivateKey:
    """Read an RSA private key in OpenSSH or PEM (PKCS#1/PKCS#8) format.

    The passphrase of an encrypted key comes from ``passphrase``, else ``$TCUP_KEY_PASSPHRASE``,
    else ``ask_passphrase(prompt)``.

    :raises SigningError: when the file cannot be read, is not an RSA private key, or the
        passphrase is missing or wrong.
    """
    path = Path(path).expanduser()
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise SigningError(f"cannot read the signing key {path}: {exc.strerror}; {_KEYGEN_HINT}") from None
    if b"PUBLIC KEY" in data[:100] or data.lstrip().startswith(b"ssh-"):
        raise SigningError(f"{path} is a public key; pass the private key file (without .pub)")
    try:
        key = _load(data, None)
    except TypeError:  # encrypted, and no password was given
        secret = passphrase
        if secret is None and os.environ.get(PASSPHRASE_ENV):
            secret = Secret(os.environ[PASSPHRASE_ENV])
        if secret is None and ask_passphrase is not None:
            secret = Secret(ask_passphrase(f"Passphrase for {path}"))
        if not secret:
            raise SigningError(
                f"the signing key {path} is protected by a passphrase; set {PASSPHRASE_ENV} "
                "or run interactively to be asked for it"
            ) from None
        try:
            key = _load(data, secret.reveal().encode())
        except (ValueError, TypeError):
            raise SigningError(f"wrong passphrase for the signing key {path}") from None
    except (ValueError, UnsupportedAlgorithm) as exc:
        raise SigningError(f"{path} is not a private key in OpenSSH or PEM format ({exc}); {_KEYGEN_HINT}") from None
    if not isinstance(key, rsa.RSAPrivateKey):
        raise SigningError(
            f"{path} is a {type(key).__name__.removesuffix('PrivateKey').lstrip('_')} key; "
            f"RefStack-compatible servers accept RSA keys only: {_KEYGEN_HINT}"
        )
    return key


def _load(data: bytes, password: bytes | None) -> object:
    if b"BEGIN OPENSSH PRIVATE KEY" in data:
        return serialization.load_ssh_private_key(data, password=password)
    return serialization.load_pem_private_key(data, password=password)


def public_key_line(key: rsa.RSAPrivateKey) -> str:
    """The public key as one OpenSSH line without comment: ``ssh-rsa AAAA...``."""
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
        .decode("ascii")
    )


def _signature(key: rsa.RSAPrivateKey, data: bytes) -> str:
    return key.sign(data, padding.PKCS1v15(), hashes.SHA256()).hex()


def sign_body(body: bytes, key: rsa.RSAPrivateKey) -> dict[str, str]:
    """The ``X-Signature`` and ``X-Public-Key`` headers for exactly ``body``."""
    return {"X-Signature": _signature(key, body), "X-Public-Key": public_key_line(key)}


def self_signature(key: rsa.RSAPrivateKey) -> str:
    """The hex signature over ``b"signature"`` that key registration asks for."""
    return _signature(key, SELF_SIGNATURE_BODY)
