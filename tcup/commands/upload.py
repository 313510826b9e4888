"""``tcup upload``, ``tcup upload-subunit`` and ``tcup sign``: RefStack-compatible uploads and keys.

``upload FILE`` takes a ``refstack.json`` (or a ``run.json``, converted to the passed-only v1
document), serialises it once as refstack-client does, signs those bytes if asked and posts them
to ``<server>/v1/results/``. When the server stays unreachable or refuses the run, the file stays
where it is and the message says how to try again.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from cryptography.hazmat.primitives.asymmetric import rsa
from rich.console import Console

from interop_model.errors import InvalidRunDocument
from interop_model.results import RunReport, RunSelection
from interop_model.wire import (
    EXTENDED_SCHEMA,
    dumps_v1,
    from_extended_document,
    loads_extended,
    loads_v1,
    to_v1_document,
)
from tcup.commands.progress import make_console
from tcup.discovery import cpid_from_url
from tcup.errors import UploadError
from tcup.http_client import DEFAULT_DEADLINE, RetryPolicy
from tcup.signing import load_private_key, public_key_line, self_signature
from tcup.subunit_reader import read_results_file
from tcup.uploader import UploadReceipt, set_run_meta, upload_extended, upload_run

__all__ = [
    "load_signing_key",
    "sign_command",
    "upload_command",
    "upload_file",
    "upload_subunit_command",
]


server_upload_option = click.option(
    "--server",
    "--url",
    "server",
    envvar=["TCUP_SERVER", "REFSTACK_URL"],
    required=True,
    metavar="URL",
    help="Base URL of the RefStack-compatible server, e.g. https://refstack.example.org/api "
    "[env: TCUP_SERVER, REFSTACK_URL].",
)
sign_option = click.option(
    "--sign",
    "-i",
    "sign_key",
    type=click.Path(dir_okay=False),
    default=None,
    help="Sign with this RSA private key (OpenSSH or PEM; a passphrase is asked "
    "for, or read from TCUP_KEY_PASSPHRASE).",
)
yes_option = click.option("-y", "--yes", is_flag=True, help="Upload without asking.")
product_version_option = click.option(
    "--product-version",
    metavar="ID",
    default=None,
    help="Attach the run to this product version of the server's registry (its id, on the product's page); "
    "the upload must be signed (--sign) by an admin of that product.",
)
timeout_option = click.option(
    "--timeout",
    type=click.FloatRange(min=1),
    default=DEFAULT_DEADLINE,
    show_default=True,
    help="Seconds the upload may take in all, retries included; then it stops and says how to retry.",
)
tls_options = (
    click.option("--insecure", is_flag=True, help="Skip TLS certificate verification."),
    click.option(
        "--cacert",
        type=click.Path(exists=True, dir_okay=False),
        default=None,
        help="CA bundle to verify the server with.",
    ),
)


def _ask_passphrase(prompt: str) -> str:
    if not sys.stdin.isatty():
        raise UploadError(f"{prompt}: no terminal to ask on; set TCUP_KEY_PASSPHRASE")
    return str(click.prompt(prompt, hide_input=True))


def load_signing_key(path: str | Path) -> rsa.RSAPrivateKey:
    """Read a signing key, asking for its passphrase on the terminal if needed."""
    return load_private_key(path, ask_passphrase=_ask_passphrase)


def upload_body(path: Path) -> tuple[bytes, RunReport]:
    """The exact bytes to upload for a ``refstack.json`` or ``run.json`` file.

    :raises UploadError: when the file cannot be read or is not a valid run document.
    """
    try:
        doc = json.loads(path.read_bytes())
    except OSError as exc:
        raise UploadError(f"cannot read {path}: {exc.strerror}") from None
    except ValueError as exc:
        raise UploadError(f"{path} is not JSON: {exc}") from None
    try:
        if isinstance(doc, dict) and doc.get("schema") == EXTENDED_SCHEMA:
            run = from_extended_document(doc)
            doc = to_v1_document(run)
        body = dumps_v1(doc)
        run = loads_v1(body)
    except InvalidRunDocument as exc:
        raise UploadError(f"{path} cannot be uploaded: {exc}") from None
    return body, run


def upload_file(
    path: Path,
    *,
    server: str,
    key: rsa.RSAPrivateKey | None,
    console: Console,
    verify: bool | str = True,
    extended: Path | None = None,
    product_version: str | None = None,
    deadline: float = DEFAULT_DEADLINE,
    selection: RunSelection | None = None,
    token: str | None = None,
) -> UploadReceipt:
    """Upload ``path`` (and the extended document ``extended``, linked to it); on failure say that
    the file is kept and how to retry. With ``token`` (the owner's API token) and ``selection``, the
    run's RefStack meta ``guideline`` and ``target`` are set too.

    :param deadline: seconds each upload may take in all, retries included.
    :raises UploadError: with the retry command in its message.
    """
    body, _ = upload_body(path)
    policy = RetryPolicy(deadline=deadline)
    retry = f"tcup upload {extended or path} --server {server}" + (" --sign KEY" if key is not None else "")
    if product_version is not None:
        retry += f" --product-version {product_version}"
    if extended is not None:
        retry += " --extended"
        if key is None:
            raise UploadError(
                "the extended run document is private to its signer: add --sign KEY (a key registered with the server)"
            )
        try:
            loads_extended(extended.read_bytes())
        except (OSError, InvalidRunDocument) as exc:
            raise UploadError(f"--extended needs a run.json (the extended run document); {extended}: {exc}") from None
    try:
        receipt = upload_run(
            body, server=server, key=key, verify=verify, policy=policy, product_version=product_version
        )
        where = receipt.url or receipt.test_id or receipt.endpoint
        console.print(f"Uploaded {path.name} to {receipt.endpoint}: {where}", highlight=False)
        if extended is not None and key is not None:
            linked = upload_extended(
                extended.read_bytes(), server=server, key=key, test_id=receipt.test_id, verify=verify, policy=policy
            )
            console.print(f"Uploaded {extended.name} (every outcome, private) to {linked.endpoint}", highlight=False)
    except UploadError as exc:
        raise UploadError(
            f"{exc}\nThe results are kept in {path.parent if extended else path}; upload them later with: {retry}"
            f" [--timeout SECONDS] (the same file is accepted once)"
        ) from None
    if selection is not None and receipt.test_id:
        meta = {"guideline": f"{selection.guideline}.json", "target": selection.target}
        if token:
            set_run_meta(server, receipt.test_id, meta, token=token, policy=policy, verify=verify)
            console.print(
                f"Set the run's meta: guideline {meta['guideline']}, target {meta['target']}", highlight=False
            )
        elif key is not None:  # NOTE: an anonymous run has no owner who could set them
            console.print(
                f"[dim]The run's meta guideline/target are not set (owner only): pass --token, or set them on the "
                f"run's page ({meta['guideline']}, {meta['target']}).[/]",
                highlight=False,
            )
    return receipt


def _confirm(what: str, server: str, yes: bool) -> bool:
    if yes or not sys.stdin.isatty():
        return True
    return click.confirm(f"Upload {what} to {server}?", default=True)


def _verify(insecure: bool, cacert: str | None) -> bool | str:
    return False if insecure else (cacert or True)


@click.command("upload")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@server_upload_option
@sign_option
@yes_option
@click.option(
    "--extended",
    is_flag=True,
    help="FILE is a run.json: also send it whole (every outcome, private to the signer) to "
    "<server>/v2/runs, linked to the v1 result; needs --sign.",
)
@product_version_option
@tls_options[0]
@tls_options[1]
@timeout_option
def upload_command(
    file: Path,
    server: str,
    sign_key: str | None,
    yes: bool,
    extended: bool,
    product_version: str | None,
    insecure: bool,
    cacert: str | None,
    timeout: float,
) -> None:
    """Upload a run (refstack.json, or run.json) to a RefStack-compatible server.

    Posts to <server>/v1/results/ the passed-only document, serialised exactly as refstack-client
    did; with --sign the X-Signature/X-Public-Key headers sign those exact bytes. Every attempt
    carries the same Idempotency-Key (the SHA-256 of those bytes), so a retried upload is kept once.
    """
    console = make_console(stdout=True)
    if product_version is not None and sign_key is None:
        raise click.UsageError("--product-version needs --sign KEY (a key registered by an admin of that product)")
    upload_body(file)  # check before asking anything
    key = load_signing_key(sign_key) if sign_key else None
    if not _confirm(str(file), server, yes):
        raise click.Abort()
    upload_file(
        file,
        server=server,
        key=key,
        console=console,
        verify=_verify(insecure, cacert),
        extended=file if extended else None,
        deadline=timeout,
        product_version=product_version,
    )


@click.command("upload-subunit")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@server_upload_option
@click.option("--cpid", default=None, help="The cloud's id (its Keystone identity service id).")
@click.option(
    "--keystone-endpoint",
    default=None,
    metavar="URL",
    help="Derive the cpid as refstack-client did: md5 of this URL's hostname.",
)
@sign_option
@yes_option
@tls_options[0]
@tls_options[1]
@timeout_option
def upload_subunit_command(
    file: Path,
    server: str,
    cpid: str | None,
    keystone_endpoint: str | None,
    sign_key: str | None,
    yes: bool,
    insecure: bool,
    cacert: str | None,
    timeout: float,
) -> None:
    """Upload the passed tests of an existing subunit stream (v2 or v1).

    The cpid comes from --cpid, or from --keystone-endpoint by RefStack's md5-of-hostname rule;
    duration_seconds is 0, as refstack-client sent.
    """
    console = make_console()
    if bool(cpid) == bool(keystone_endpoint):
        raise click.UsageError("give exactly one of --cpid and --keystone-endpoint")
    the_cpid = cpid or cpid_from_url(str(keystone_endpoint))
    read = read_results_file(file)
    if read.problems:
        console.print(f"[yellow]{file}: {'; '.join(read.problems)}[/]", highlight=False)
    run = RunReport(cpid=the_cpid, duration_seconds=0, results=tuple(read.results))
    passed = len(run.passed_names())
    if not passed:
        raise UploadError(f"{file} has no passed test ({len(read.results)} results); nothing to upload")
    body = dumps_v1(to_v1_document(run))
    key = load_signing_key(sign_key) if sign_key else None
    if not _confirm(f"{passed} passed tests of {file} (cpid {the_cpid})", server, yes):
        raise click.Abort()
    try:
        receipt = upload_run(
            body, server=server, key=key, verify=_verify(insecure, cacert), policy=RetryPolicy(deadline=timeout)
        )
    except UploadError as exc:
        raise UploadError(f"{exc}\n{file} is unchanged; run this command again when the server is back") from None
    console.print(f"tcup: uploaded {passed} passed tests: {receipt.url or receipt.test_id}", highlight=False)


@click.command("sign")
@click.argument("key", type=click.Path(exists=True, dir_okay=False))
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="Print the body of POST /v1/profile/pubkeys ({raw_key, self_signature}) instead.",
)
def sign_command(key: str, as_json: bool) -> None:
    """Print a key's public key line and self-signature, for registering it with the server."""
    private = load_signing_key(key)
    line, signature = public_key_line(private), self_signature(private)
    if as_json:
        click.echo(json.dumps({"raw_key": line, "self_signature": signature}))
        return
    click.echo("Public key (register this line, without this label):", err=True)
    click.echo(line)
    click.echo("Self signature:", err=True)
    click.echo(signature)
