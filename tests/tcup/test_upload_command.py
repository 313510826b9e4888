"""``tcup upload``, ``upload-subunit`` and ``sign`` through the real command line (click's runner)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from interop_model.results import CaseResult, Outcome, RunReport
from interop_model.wire import dumps_extended, dumps_v1, loads_v1
from tcup.cli import cli
from tests.tcup.fake_server import Script, closed_port_url, serve
from tests.tcup.subunit_streams import stream_bytes

RUN = RunReport(
    cpid="c1",
    duration_seconds=5,
    results=(
        CaseResult(test_id="tempest.a.B.test_ok", outcome=Outcome.SUCCESS),
        CaseResult(test_id="tempest.a.B.test_bad", outcome=Outcome.FAIL, reason="boom"),
    ),
)


def _key_file(tmp_path: Path, key: rsa.RSAPrivateKey) -> Path:
    path = tmp_path / "id_rsa"
    path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH, serialization.NoEncryption())
    )
    return path


def _verify(key: rsa.RSAPrivateKey, body: bytes, signature_hex: str) -> None:
    key.public_key().verify(bytes.fromhex(signature_hex), body, padding.PKCS1v15(), hashes.SHA256())


def test_sign_prints_key_line_and_self_signature(tmp_path: Path, rsa_key: rsa.RSAPrivateKey) -> None:
    result = CliRunner().invoke(cli, ["sign", str(_key_file(tmp_path, rsa_key))])
    assert result.exit_code == 0, result.output
    line, signature = result.stdout.splitlines()
    assert line.startswith("ssh-rsa ") and len(line.split()) == 2
    _verify(rsa_key, b"signature", signature)
    as_json = CliRunner().invoke(cli, ["sign", "--json", str(_key_file(tmp_path, rsa_key))])
    assert json.loads(as_json.stdout) == {"raw_key": line, "self_signature": signature}


def test_upload_refstack_json_signed(tmp_path: Path, rsa_key: rsa.RSAPrivateKey) -> None:
    path = tmp_path / "refstack.json"
    path.write_text(json.dumps({"cpid": "c1", "duration_seconds": 5, "results": [{"name": "t.x"}]}, indent=4))
    with serve(Script()) as script:
        result = CliRunner().invoke(
            cli, ["upload", str(path), "--server", script.url, "--sign", str(_key_file(tmp_path, rsa_key)), "-y"]
        )
    assert result.exit_code == 0, result.output
    (request,) = script.requests
    assert request.body == b'{"cpid": "c1", "duration_seconds": 5, "results": [{"name": "t.x"}]}'
    _verify(rsa_key, request.body, request.headers["X-Signature"])


def test_upload_run_json_sends_passed_tests_only(tmp_path: Path) -> None:
    path = tmp_path / "run.json"
    path.write_bytes(dumps_extended(RUN, indent=2))
    with serve(Script()) as script:
        result = CliRunner().invoke(cli, ["upload", str(path), "--url", script.url, "-y"])
    assert result.exit_code == 0, result.output
    assert script.requests[0].body == dumps_v1(
        {"cpid": "c1", "duration_seconds": 5, "results": [{"name": "tempest.a.B.test_ok"}]}
    )


def test_failed_upload_keeps_the_file_and_says_how_to_retry(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("time.sleep", lambda _: None)
    path = tmp_path / "refstack.json"
    path.write_bytes(dumps_v1({"cpid": "c1", "duration_seconds": 5, "results": [{"name": "t.x"}]}))
    before = path.read_bytes()
    url = closed_port_url()
    result = CliRunner().invoke(cli, ["upload", str(path), "--server", url, "-y"])
    assert result.exit_code == 2
    assert "did not accept the upload" in result.output and "--timeout" in result.output
    assert f"The results are kept in {path}" in result.output and f"tcup upload {path} --server {url}" in result.output
    assert path.read_bytes() == before


def test_invalid_document_is_refused_before_any_request(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text(json.dumps({"cpid": "c", "duration_seconds": 1, "results": [], "meta": {}}))
    result = CliRunner().invoke(cli, ["upload", str(path), "--server", closed_port_url(), "-y"])
    assert result.exit_code == 2
    assert "unknown top-level key 'meta'" in result.output


def test_upload_subunit_with_keystone_endpoint_cpid(tmp_path: Path) -> None:
    stream = tmp_path / "run.subunit"
    ok = "tempest.a.B.test_ok[id-6f8e4436-fc96-4282-8122-e41df57197a9,smoke]"
    stream.write_bytes(stream_bytes([(ok, "success", None), ("tempest.a.B.test_no", "fail", "x")]))
    with serve(Script()) as script:
        result = CliRunner().invoke(
            cli,
            [
                "upload-subunit",
                str(stream),
                "--server",
                script.url,
                "-y",
                "--keystone-endpoint",
                "https://keystone.example.com:5000/v3",
            ],
        )
    assert result.exit_code == 0, result.output
    run = loads_v1(script.requests[0].body)
    assert run.cpid == hashlib.md5(b"keystone.example.com").hexdigest() and run.duration_seconds == 0
    assert [(r.test_id, str(r.idempotent_id)) for r in run.results] == [
        ("tempest.a.B.test_ok", "6f8e4436-fc96-4282-8122-e41df57197a9")
    ]


def test_upload_subunit_needs_one_cpid_source(tmp_path: Path) -> None:
    stream = tmp_path / "run.subunit"
    stream.write_bytes(stream_bytes([("t.a.B.test", "success", None)]))
    result = CliRunner().invoke(cli, ["upload-subunit", str(stream), "--server", "http://x", "-y"])
    assert result.exit_code == 2 and "exactly one of --cpid and --keystone-endpoint" in result.output


def test_extended_upload_needs_a_key_and_a_run_json(tmp_path: Path, rsa_key: rsa.RSAPrivateKey) -> None:
    v1 = tmp_path / "refstack.json"
    v1.write_bytes(dumps_v1({"cpid": "c1", "duration_seconds": 5, "results": [{"name": "t.x"}]}))
    key = str(_key_file(tmp_path, rsa_key))
    unsigned = CliRunner().invoke(cli, ["upload", str(v1), "--server", closed_port_url(), "--extended", "-y"])
    assert unsigned.exit_code == 2 and "add --sign KEY" in unsigned.output
    wrong = CliRunner().invoke(
        cli, ["upload", str(v1), "--server", closed_port_url(), "--extended", "--sign", key, "-y"]
    )
    assert wrong.exit_code == 2 and "--extended needs a run.json" in wrong.output


def test_signed_extended_upload_is_linked_to_the_v1_result(tmp_path: Path, rsa_key: rsa.RSAPrivateKey) -> None:
    path = tmp_path / "run.json"
    path.write_bytes(dumps_extended(RUN, indent=2))
    script = Script(answers=[(201, {"test_id": "r1", "url": "/results/r1"}), (201, {"test_id": "r1", "linked": True})])
    with serve(script):
        result = CliRunner().invoke(
            cli,
            [
                "upload",
                str(path),
                "--server",
                script.url,
                "--extended",
                "--sign",
                str(_key_file(tmp_path, rsa_key)),
                "-y",
            ],
        )
    assert result.exit_code == 0, result.output
    v1, full = script.requests
    assert v1.path == "/v1/results/" and full.path == "/v2/runs?test_id=r1"
    assert full.body == path.read_bytes()  # the file's exact bytes, signed
    _verify(rsa_key, full.body, full.headers["X-Signature"])


def test_upload_with_a_token_sets_the_runs_meta(tmp_path: Path) -> None:
    import hashlib
    import io

    from rich.console import Console

    from interop_model.results import RunSelection
    from tcup.commands.upload import upload_file

    path = tmp_path / "refstack.json"
    path.write_bytes(dumps_v1({"cpid": "c1", "duration_seconds": 5, "results": [{"name": "t.x"}]}))
    script = Script(answers=[(201, {"test_id": "abc", "url": "u"}), (201, b""), (201, b"")])
    out = io.StringIO()
    with serve(script):
        upload_file(
            path,
            server=script.url,
            key=None,
            console=Console(file=out),
            selection=RunSelection(guideline="2020.06", target="object"),
            token="tok-123",
        )
    upload, guideline, target = script.requests
    assert upload.headers["Idempotency-Key"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert (guideline.path, guideline.body) == ("/v1/results/abc/meta/guideline", b"2020.06.json")
    assert (target.path, target.body) == ("/v1/results/abc/meta/target", b"object")
    assert target.headers["Authorization"] == "Bearer tok-123" and "tok-123" not in out.getvalue()
