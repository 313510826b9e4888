"""``tcup run``: parse options, call :func:`tcup.run_flow.run_interop`, show and upload the results."""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import click
from rich.console import Console

from interop_model.guidelines import parse_statuses
from tcup.accounts_file import account_from_cloud
from tcup.commands.list_tests import guidelines_dir_option, read_guideline, server_option
from tcup.commands.progress import RunProgress, make_console
from tcup.commands.report_view import print_compliance
from tcup.commands.upload import load_signing_key, product_version_option, upload_file
from tcup.credentials import read_accounts_file, resolve_credentials
from tcup.exemptions import load_exemptions
from tcup.http_client import DEFAULT_DEADLINE
from tcup.reporting import FILE_ROLES, counts_line
from tcup.run_flow import GuidelineTarget, RunResult, Selection, run_interop

__all__ = ["credential_options", "credentials_from_options", "run_command"]

LOG = logging.getLogger(__name__)
EXIT_FAILED, EXIT_INTERRUPTED = 1, 130

_CRED_FLAGS = (
    ("--os-auth-url", "auth_url", "Keystone URL"),
    ("--os-username", "username", "user name"),
    ("--os-password", "password", "password (prefer OS_PASSWORD: flags show up in `ps`)"),
    ("--os-project-name", "project_name", "project name"),
    ("--os-project-id", "project_id", "project id"),
    ("--os-user-domain-name", "user_domain_name", "user's domain name"),
    ("--os-project-domain-name", "project_domain_name", "project's domain name"),
    ("--os-region-name", "region_name", "region"),
    ("--os-interface", "interface", "endpoint interface (public, internal)"),
    ("--os-cacert", "cacert", "CA bundle for TLS verification"),
)


def credential_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """Add ``--os-cloud``, ``--os-client-config-file``, ``--insecure`` and the ``--os-*`` flags."""
    for flag, name, text in reversed(_CRED_FLAGS):
        func = click.option(flag, name, default=None, help=f"Cloud {text} (overrides OS_* and clouds.yaml).")(func)
    func = click.option("--insecure", is_flag=True, default=False, help="Skip TLS certificate verification.")(func)
    func = click.option(
        "--os-client-config-file",
        "clouds_file",
        envvar="OS_CLIENT_CONFIG_FILE",
        type=click.Path(dir_okay=False),
        default=None,
        help="clouds.yaml to read --os-cloud from [env: OS_CLIENT_CONFIG_FILE].",
    )(func)
    return click.option(
        "--os-cloud",
        "cloud",
        envvar="OS_CLOUD",
        default=None,
        help="Cloud name in clouds.yaml [env: OS_CLOUD]; without it OS_* variables are used.",
    )(func)


def credentials_from_options(options: dict[str, Any]) -> Any:
    """CloudCredentials from the options :func:`credential_options` added (popped from ``options``)."""
    overrides = {name: options.pop(name) for _, name, _ in _CRED_FLAGS}
    overrides["insecure"] = options.pop("insecure")
    return resolve_credentials(cloud=options.pop("cloud"), config_file=options.pop("clouds_file"), overrides=overrides)


def _tempest_options(values: tuple[str, ...]) -> dict[str, str]:
    options = {}
    for item in values:
        key, sep, value = item.partition("=")
        if not sep or "." not in key:
            raise click.BadParameter(f"{item!r} is not SECTION.KEY=VALUE", param_hint="--tempest-option")
        options[key.strip()] = value.strip()
    return options


@click.command("run")
@credential_options
@click.option(
    "--accounts-file",
    type=click.Path(exists=True, dir_okay=False),
    default=None,
    help="Tempest accounts.yaml with further non-admin users (a reader in the same project, "
    "users of other projects); the main account is added first.",
)
@click.option(
    "--extra-cloud",
    multiple=True,
    metavar="NAME",
    help="A clouds.yaml entry to add as a further Tempest account (repeatable).",
)
@click.option(
    "--guideline",
    "-g",
    "guideline",
    metavar="G",
    help="Guideline (file, URL or version name such as 2020.06) to select tests from and judge by.",
)
@click.option("--target", "-t", default="platform", show_default=True, help="Target program of --guideline.")
@click.option(
    "--add-on",
    "add_ons",
    multiple=True,
    metavar="G[:TARGET]",
    help="An add-on guideline (dns.2020.06, ...) whose tests also run (repeatable).",
)
@click.option(
    "--capability",
    "-c",
    "capabilities",
    multiple=True,
    metavar="NAME",
    help="Only these capabilities (repeatable; globs such as 'identity-v3-*').",
)
@click.option(
    "--status",
    "statuses",
    default="required",
    show_default=True,
    help="Capability statuses to run, comma-separated (required,advisory,...).",
)
@click.option("--include-flagged", is_flag=True, help="Also run flagged tests (RefStack's lists leave them out).")
@click.option(
    "--regex",
    "regexes",
    multiple=True,
    metavar="REGEX",
    help="Run the Tempest tests whose id matches (repeatable); with -g the report still judges.",
)
@click.option("--all", "run_all", is_flag=True, help="Run every installed Tempest test.")
@click.option(
    "--concurrency",
    "-w",
    type=click.IntRange(min=1),
    default=None,
    help="Tempest workers [default: CPU count, at most one per member account].",
)
@click.option(
    "--io-threads",
    type=click.IntRange(min=1),
    default=None,
    help="Test classes each worker runs at once, as tests mostly wait on the cloud [default: 4, "
    "at most half the member accounts over all workers; 1 runs classes one after another].",
)
@click.option(
    "--output",
    "-o",
    type=click.Path(file_okay=False),
    default=None,
    help="Output folder [default: ./tcup-results/<timestamp>].",
)
@click.option(
    "--tempest-python",
    envvar="TCUP_TEMPEST_PYTHON",
    default=None,
    help="Python of the Tempest install to use [env: TCUP_TEMPEST_PYTHON].",
)
@click.option(
    "--tempest-option",
    "tempest_options",
    multiple=True,
    metavar="SECTION.KEY=VALUE",
    help="Override a generated tempest.conf value (repeatable).",
)
@click.option(
    "--upload",
    "upload_url",
    metavar="URL",
    default=None,
    help="Upload the results to this RefStack-compatible server when the run ends.",
)
@click.option(
    "--sign",
    "sign_key",
    type=click.Path(dir_okay=False),
    default=None,
    help="Sign the upload with this RSA private key (OpenSSH or PEM).",
)
@click.option(
    "--extended",
    "upload_extended",
    is_flag=True,
    help="With --upload and --sign: also send run.json (every outcome, private to you) to <URL>/v2/runs.",
)
@product_version_option
@click.option("-y", "--yes", is_flag=True, help="Upload without asking.")
@click.option(
    "--token",
    envvar="TCUP_API_TOKEN",
    default=None,
    help="Your API token on the upload server: with it the uploaded run also gets its RefStack meta "
    "guideline and target (owner only) [env: TCUP_API_TOKEN].",
)
@click.option(
    "--timeout",
    type=click.FloatRange(min=1),
    default=DEFAULT_DEADLINE,
    show_default=True,
    help="Seconds a guideline fetch, and the upload, may each take in all, retries included.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="text: the report on stdout; json: compliance.json on stdout (for scripts).",
)
@click.option(
    "--exemptions",
    "exemption_files",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False),
    metavar="FILE",
    help="Further exemptions, YAML or JSON (the format of interop_model/data/exemptions.json), repeatable.",
)
@click.option(
    "--environment",
    "environments",
    multiple=True,
    metavar="NAME",
    help="Also honour the exemptions of kind 'environment' for this test environment (e.g. devcloud), repeatable.",
)
@click.option("--no-progress", is_flag=True, help="Plain progress lines instead of a live bar.")
@guidelines_dir_option
@server_option
def run_command(**options: Any) -> int:
    """Run the interop tests against a cloud, report compliance, and optionally upload.

    Credentials come from --os-cloud (clouds.yaml), OS_* variables or --os-* flags; one non-admin
    account is enough to start, and further users (a reader, another project) come from
    --accounts-file or --extra-cloud. tempest.conf is generated from the catalog; nothing is created.

    Select tests with --guideline/--target (plus --add-on, --capability), --regex or --all.
    The report (table, verdicts, files written, upload) goes to stdout, progress to stderr.
    Exit status: 0 compliant (tcup's verdict; without a guideline: no test failed), 1 not
    compliant, 2 could not run, 130 interrupted (the results so far are still written).
    """
    console = make_console()
    report = make_console(stdout=True)
    clouds_file = options.get("clouds_file")
    creds = credentials_from_options(options)
    extra = list(read_accounts_file(options["accounts_file"])) if options["accounts_file"] else []
    for name in options["extra_cloud"]:
        extra.append(account_from_cloud(name, config_file=clouds_file))
    if options["sign_key"] and not options["upload_url"]:
        raise click.UsageError("--sign signs an upload: add --upload URL (or later: tcup upload FILE --sign KEY)")
    if options["upload_extended"] and not (options["sign_key"] and options["upload_url"]):
        raise click.UsageError("--extended needs --upload URL and --sign KEY (the full run is private to its signer)")
    if options["product_version"] and not (options["sign_key"] and options["upload_url"]):
        raise click.UsageError(
            "--product-version needs --upload URL and --sign KEY (a key of an admin of that product)"
        )
    key = load_signing_key(options["sign_key"]) if options["sign_key"] and options["upload_url"] else None
    selection = _selection(options)
    output = Path(options["output"] or Path("tcup-results") / datetime.now().strftime("%Y%m%d-%H%M%S"))
    console.print(f"tcup: {creds.describe()}; results in {output}", highlight=False)

    def progress(total: int) -> RunProgress:
        return RunProgress(total, console=console, live=False if options["no_progress"] else None)

    result = run_interop(
        creds=creds,
        selection=selection,
        output=output,
        extra_accounts=extra,
        concurrency=options["concurrency"],
        io_threads=options["io_threads"],
        tempest_python=options["tempest_python"],
        tempest_options=_tempest_options(options["tempest_options"]),
        listener_factory=progress,
        exemptions=load_exemptions(options["exemption_files"]),
        environments=options["environments"],
    )
    as_json = options["fmt"] == "json"
    if not as_json:
        _report(report, result)
    if result.interrupted:
        console.print(f"[yellow]Interrupted[/]: partial results are in {output}", highlight=False)
    elif options["upload_url"]:
        _upload(
            console if as_json else report,
            result,
            options["upload_url"],
            key,
            options["yes"],
            options["upload_extended"],
            options["timeout"],
            options["token"],
            options["product_version"],
        )
    if as_json:
        path = result.files.get("compliance")
        sys.stdout.write(path.read_text() if path else json.dumps({"states": [], "reports": []}) + "\n")
        sys.stdout.flush()
    if result.interrupted:
        return EXIT_INTERRUPTED
    return 0 if result.compliant() else EXIT_FAILED


def _selection(options: dict[str, Any]) -> Selection:
    if options["capabilities"] and not options["guideline"]:
        raise click.UsageError("--capability needs --guideline")
    if not (options["guideline"] or options["regexes"] or options["run_all"]):
        raise click.UsageError("choose the tests: --guideline G [--capability NAME], --regex REGEX or --all")
    if options["regexes"] and options["run_all"]:
        raise click.UsageError("--regex and --all exclude each other")
    guidelines = []
    # NOTE: a guideline named by version is also looked up on the upload server (it serves
    # /v1/guidelines), so `--guideline 2020.06 --upload URL` needs no second URL.
    server = options["server"] or options["upload_url"]
    if options["guideline"]:
        guideline = read_guideline(options["guideline"], options["guidelines_dir"], server, options["timeout"])
        guidelines.append(GuidelineTarget(guideline=guideline, target=options["target"]))
    for spec in options["add_ons"]:
        name, _, target = spec.partition(":")
        add_on = read_guideline(name, options["guidelines_dir"], server, options["timeout"])
        if not target:
            if len(add_on.targets) != 1:
                raise click.BadParameter(
                    f"{name} has targets {', '.join(add_on.targets)}; write {name}:TARGET", param_hint="--add-on"
                )
            target = add_on.targets[0]
        guidelines.append(GuidelineTarget(guideline=add_on, target=target))
    statuses = parse_statuses(options["statuses"])
    if not statuses:
        raise click.BadParameter(f"{options['statuses']!r} names no status", param_hint="--status")
    return Selection(
        guidelines=guidelines,
        capabilities=options["capabilities"],
        statuses=statuses,
        include_flagged=options["include_flagged"],
        regexes=options["regexes"],
        run_all=options["run_all"],
    )


def _report(console: Console, result: RunResult) -> None:
    read = result.outcome.read
    console.print(
        f"tcup: {counts_line(result.run.counts())} in {result.outcome.seconds:.0f} s (cpid {result.facts.cpid})",
        highlight=False,
    )
    if read.incomplete:
        console.print(f"[yellow]{len(read.incomplete)} tests did not finish[/]", highlight=False)
    for problem in read.problems:
        console.print(f"[yellow]subunit stream problem:[/] {problem}", highlight=False)
    print_compliance(console, result.sections)
    console.print(f"Files written in {result.output}:", highlight=False)
    for key, path in result.files.items():
        console.print(f"  {path.name:<16} {FILE_ROLES.get(key, '')}", highlight=False)


def _upload(
    console: Console,
    result: RunResult,
    url: str,
    key: Any,
    yes: bool,
    extended: bool,
    deadline: float,
    token: str | None,
    product_version: str | None = None,
) -> None:
    path = result.files["v1"]
    if not result.run.passed_names():
        console.print(
            f"[yellow]Not uploading[/]: no test passed, and RefStack-compatible servers refuse an "
            f"upload without a passed test. The document is kept in {path}.",
            highlight=False,
        )
        return
    if not yes and sys.stdin.isatty() and not click.confirm(f"Upload {path} to {url}?", default=True):
        console.print(f"Not uploaded; upload later with: tcup upload {path} --server {url}", highlight=False)
        return
    upload_file(
        path,
        server=url,
        key=key,
        console=console,
        extended=result.files["extended"] if extended else None,
        deadline=deadline,
        selection=result.selection_meta,
        token=token,
        product_version=product_version,
    )
