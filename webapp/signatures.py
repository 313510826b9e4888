"""RefStack's upload signature scheme, checked in RefStack's order and words.

RSA PKCS#1 v1.5 with SHA-256 over the raw request body; the signature as hex in
``X-Signature``; the key as one OpenSSH line in ``X-Public-Key``. Key registration
signs the nine bytes ``signature`` the same way.

Every refusal is a :class:`BadSignature` (RefStack's title and the problems found); the
API answers it with a 400, in :mod:`webapp.errors`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.serialization import load_ssh_public_key

KEY_FORMATS = ("ssh-rsa", "ssh-dss", "pgp-sign-rsa", "pgp-sign-dss")
SELF_SIGNATURE_DATA = b"signature"
MIN_RSA_KEY_BITS = 2048  # NIST SP 800-131A: RSA keys under 2048 bits are disallowed for signatures


class BadSignature(Exception):
    """A signature, key or key format that cannot be used: RefStack's ``title`` and every problem."""

    def __init__(self, title: str, problems: list[str] | None = None) -> None:
        super().__init__(title)
        self.title = title
        self.problems = problems or [title]


@dataclass(frozen=True, slots=True)
class OpenSshKey:
    """A parsed ``<format> <base64> [comment]`` line."""

    format: str
    base64: str
    comment: str
    key: rsa.RSAPublicKey

    @property
    def md5_hash(self) -> str:
        """RefStack's lookup key: md5 hex of the decoded key blob."""
        return hashlib.md5(base64.b64decode(self.base64), usedforsecurity=False).hexdigest()

    @property
    def sha256(self) -> str:
        """Our unique key: sha256 hex of the decoded key blob."""
        return hashlib.sha256(base64.b64decode(self.base64)).hexdigest()


def parse_signature(text: str | None) -> bytes:
    """Hex-decode a signature, or :class:`BadSignature` ``Malformed signature``."""
    try:
        raw = binascii.a2b_hex((text or "").strip())
    except (binascii.Error, ValueError) as exc:
        raise BadSignature("Malformed signature", [f"Malformed signature: X-Signature is not hex ({exc})"]) from None
    if not raw:
        raise BadSignature("Malformed signature", ["Malformed signature: X-Signature is empty"])
    return raw


def parse_public_key(line: str | None, *, min_bits: int = MIN_RSA_KEY_BITS) -> OpenSshKey:
    """Parse an OpenSSH RSA public key line, or :class:`BadSignature` ``Malformed public key``.

    :param min_bits: refuse a key with a shorter modulus (``Key too small``): a 512-bit key is
        factored in hours, so runs signed with it prove nothing about who uploaded them.
    """
    parts = (line or "").strip().split()
    if len(parts) < 2:
        raise BadSignature(
            "Malformed public key", ["Malformed public key: expected one OpenSSH line 'ssh-rsa AAAA... [comment]'"]
        )
    try:
        key = load_ssh_public_key(f"{parts[0]} {parts[1]}".encode("ascii"))
    except (ValueError, UnsupportedAlgorithm, UnicodeEncodeError) as exc:
        raise BadSignature("Malformed public key", [f"Malformed public key: {exc}"]) from None
    if not isinstance(key, rsa.RSAPublicKey):
        raise BadSignature(
            "Malformed public key",
            ["Malformed public key: only RSA keys (ssh-rsa) can verify RSA PKCS#1 v1.5 signatures"],
        )
    if key.key_size < min_bits:
        raise BadSignature(
            "Key too small",
            [
                f"Key too small: the RSA key has {key.key_size} bits, this server accepts {min_bits} or more "
                f"(fix: make a new key with ssh-keygen -t rsa -b {max(min_bits, 4096)} and register it)"
            ],
        )
    return OpenSshKey(format=parts[0], base64=parts[1], comment=" ".join(parts[2:]), key=key)


def verify(key: OpenSshKey, signature: bytes, data: bytes) -> None:
    """Check the signature over ``data``, or :class:`BadSignature` ``Signature verification failed``."""
    try:
        key.key.verify(signature, data, padding.PKCS1v15(), hashes.SHA256())
    except InvalidSignature:
        raise BadSignature(
            "Signature verification failed",
            [
                "Signature verification failed: X-Signature must be the RSA PKCS#1 v1.5 SHA-256 signature "
                "of the exact body bytes sent"
            ],
        ) from None


def verify_upload(
    body: bytes, signature_header: str | None, key_header: str | None, *, min_bits: int = MIN_RSA_KEY_BITS
) -> OpenSshKey:
    """RefStack's checks 1-3 for a signed upload, over the raw body bytes; a key under ``min_bits`` is refused."""
    signature = parse_signature(signature_header)
    key = parse_public_key(key_header, min_bits=min_bits)
    verify(key, signature, body)
    return key


def verify_registration(raw_key: str, self_signature: str, *, min_bits: int = MIN_RSA_KEY_BITS) -> OpenSshKey:
    """Checks for ``POST /v1/profile/pubkeys``: format, hex, key (``min_bits`` or more), then the self-signature."""
    fmt = raw_key.strip().split()[0] if raw_key.strip() else ""
    if fmt not in KEY_FORMATS:
        raise BadSignature(
            "Public key has unsupported format",
            [
                f"Public key has unsupported format: {fmt[:40]!r} (expected one of {', '.join(KEY_FORMATS)}; "
                "paste only the key line, without any label)"
            ],
        )
    signature = parse_signature(self_signature)
    key = parse_public_key(raw_key, min_bits=min_bits)
    verify(key, signature, SELF_SIGNATURE_DATA)
    return key


__all__ = [
    "KEY_FORMATS",
    "MIN_RSA_KEY_BITS",
    "BadSignature",
    "OpenSshKey",
    "parse_public_key",
    "parse_signature",
    "verify",
    "verify_registration",
    "verify_upload",
]
