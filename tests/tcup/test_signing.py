"""Keys in OpenSSH and PEM formats, with and without passphrase, and RefStack's signature scheme."""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, padding, rsa

from tcup.credentials import Secret
from tcup.errors import SigningError
from tcup.signing import PASSPHRASE_ENV, load_private_key, public_key_line, self_signature, sign_body

PASSPHRASE = "correct horse"


def _write(path: Path, key: object, fmt: serialization.PrivateFormat, passphrase: str | None = None) -> Path:
    algo = serialization.BestAvailableEncryption(passphrase.encode()) if passphrase else serialization.NoEncryption()
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM
            if fmt is not serialization.PrivateFormat.OpenSSH
            else serialization.Encoding.PEM,
            fmt,
            algo,
        )
    )  # type: ignore[attr-defined]
    return path


def _verify(key: rsa.RSAPrivateKey, body: bytes, headers: dict[str, str]) -> None:
    """What a RefStack server does: parse the OpenSSH line, verify PKCS#1 v1.5 SHA-256 over the raw body."""
    public = serialization.load_ssh_public_key(headers["X-Public-Key"].encode())
    assert isinstance(public, rsa.RSAPublicKey)
    public.verify(bytes.fromhex(headers["X-Signature"]), body, padding.PKCS1v15(), hashes.SHA256())
    assert public.public_numbers() == key.public_key().public_numbers()


@pytest.mark.parametrize(
    "fmt",
    [
        serialization.PrivateFormat.OpenSSH,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.PrivateFormat.PKCS8,
    ],
)
def test_unencrypted_keys_in_every_format(
    tmp_path: Path, rsa_key: rsa.RSAPrivateKey, fmt: serialization.PrivateFormat
) -> None:
    path = _write(tmp_path / "key", rsa_key, fmt)
    key = load_private_key(path)
    body = b'{"cpid": "c", "duration_seconds": 1, "results": [{"name": "t"}]}'
    _verify(rsa_key, body, sign_body(body, key))


@pytest.mark.parametrize("fmt", [serialization.PrivateFormat.OpenSSH, serialization.PrivateFormat.PKCS8])
def test_passphrase_from_argument_env_or_prompt(
    tmp_path: Path, rsa_key: rsa.RSAPrivateKey, fmt: serialization.PrivateFormat, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _write(tmp_path / "key", rsa_key, fmt, PASSPHRASE)
    monkeypatch.delenv(PASSPHRASE_ENV, raising=False)
    assert load_private_key(path, passphrase=Secret(PASSPHRASE)).key_size == 2048
    prompts: list[str] = []
    assert load_private_key(path, ask_passphrase=lambda p: prompts.append(p) or PASSPHRASE)
    assert prompts == [f"Passphrase for {path}"]
    monkeypatch.setenv(PASSPHRASE_ENV, PASSPHRASE)
    assert load_private_key(path)


def test_missing_and_wrong_passphrase(
    tmp_path: Path, rsa_key: rsa.RSAPrivateKey, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(PASSPHRASE_ENV, raising=False)
    path = _write(tmp_path / "key", rsa_key, serialization.PrivateFormat.OpenSSH, PASSPHRASE)
    with pytest.raises(SigningError, match="protected by a passphrase.*TCUP_KEY_PASSPHRASE"):
        load_private_key(path)
    with pytest.raises(SigningError, match="wrong passphrase") as info:
        load_private_key(path, passphrase=Secret("nope"))
    assert "nope" not in str(info.value)


def test_unusable_keys_are_explained(tmp_path: Path, rsa_key: rsa.RSAPrivateKey) -> None:
    ed = _write(tmp_path / "ed", ed25519.Ed25519PrivateKey.generate(), serialization.PrivateFormat.OpenSSH)
    with pytest.raises(SigningError, match="RSA keys only"):
        load_private_key(ed)
    pub = tmp_path / "key.pub"
    pub.write_text(public_key_line(rsa_key) + " me@host\n")
    with pytest.raises(SigningError, match="public key"):
        load_private_key(pub)
    junk = tmp_path / "junk"
    junk.write_text("hello")
    with pytest.raises(SigningError, match="not a private key"):
        load_private_key(junk)
    with pytest.raises(SigningError, match="cannot read"):
        load_private_key(tmp_path / "absent")


def test_public_key_line_and_self_signature(rsa_key: rsa.RSAPrivateKey) -> None:
    line = public_key_line(rsa_key)
    kind, b64 = line.split(" ")  # no comment, as refstack-client sends it
    assert kind == "ssh-rsa"
    assert len(hashlib.md5(base64.b64decode(b64)).hexdigest()) == 32  # the server's key lookup works
    _verify(rsa_key, b"signature", {"X-Signature": self_signature(rsa_key), "X-Public-Key": line})
    assert self_signature(rsa_key) == self_signature(rsa_key).lower()
