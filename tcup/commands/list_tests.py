"""``tcup list-tests`` and ``tcup check-guideline``: a guideline's tests, as RefStack listed them."""

from __future__ import annotations

import json
import sys

import click

from interop_model.guidelines import Guideline, parse_statuses
from tcup.guideline_source import GuidelineLocation, load_guideline
from tcup.http_client import DEFAULT_DEADLINE
from tcup.resolution import Match, resolve_entries, select_entries
from tcup.test_index import load_test_index

guideline_option = click.option(
    "--guideline",
    "-g",
    required=True,
    metavar="G",
    help="A guideline file, an http(s) URL, or a version name such as 2020.06 or dns.2020.06.",
)
guidelines_dir_option = click.option(
    "--guidelines-dir",
    type=click.Path(file_okay=False),
    envvar="TCUP_GUIDELINES_DIR",
    help="Folder of guideline files where version names are looked up [env: TCUP_GUIDELINES_DIR].",
)
server_option = click.option(
    "--server",
    metavar="URL",
    envvar="TCUP_SERVER",
    help="Collector service to fetch guidelines named by version from [env: TCUP_SERVER].",
)
timeout_option = click.option(
    "--timeout",
    type=click.FloatRange(min=1),
    default=DEFAULT_DEADLINE,
    show_default=True,
    help="Seconds a guideline fetch (or an upload) may take in all, retries included.",
)


def read_guideline(
    guideline: str, guidelines_dir: str | None, server: str | None, deadline: float | None = None
) -> Guideline:
    """Load a guideline from the common options, reporting its data warnings count on stderr."""
    loaded = load_guideline(guideline, GuidelineLocation.from_options(guidelines_dir, server, deadline))
    if loaded.warnings:
        click.echo(
            f"tcup: note: {loaded.source} has {len(loaded.warnings)} data-quality warnings "
            "(see `tcup check-guideline`)",
            err=True,
        )
    return loaded


@click.command("list-tests")
@guideline_option
@click.option(
    "--target",
    "-t",
    default="platform",
    show_default=True,
    help="Target program: platform, compute, object, dns, orchestration, ...",
)
@click.option(
    "--type",
    "types",
    metavar="STATUSES",
    default=None,
    help="Comma-separated statuses (required,advisory,deprecated,removed). Default: all of them.",
)
@click.option("--no-alias", is_flag=True, help="Leave out the aliases of each test.")
@click.option("--no-flagged", is_flag=True, help="Leave out flagged tests.")
@click.option(
    "--resolve",
    is_flag=True,
    help="Match each test against the installed Tempest (id, then name, then alias) and print "
    "the local test ids; unmatched tests are reported on stderr.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="With --resolve: json prints the full resolution report.",
)
@click.option(
    "--tempest-python",
    envvar="TCUP_TEMPEST_PYTHON",
    default=None,
    help="Python interpreter of the Tempest install to resolve against [env: TCUP_TEMPEST_PYTHON].",
)
@guidelines_dir_option
@server_option
@timeout_option
def list_tests_command(
    guideline: str,
    target: str,
    types: str | None,
    no_alias: bool,
    no_flagged: bool,
    resolve: bool,
    fmt: str,
    tempest_python: str | None,
    guidelines_dir: str | None,
    server: str | None,
    timeout: float,
) -> None:
    """Print a guideline's tests for a target, one per line.

    Without --resolve the lines are exactly those of RefStack's
    GET /v1/guidelines/<version>/tests?target=&type=&alias=&flag= endpoint, with the
    same defaults: every status, aliases and flagged tests included.
    """
    loaded = read_guideline(guideline, guidelines_dir, server, timeout)
    statuses = parse_statuses(types)
    if not resolve:
        lines = loaded.test_list(target, statuses=statuses, alias=not no_alias, flagged=not no_flagged)
        if lines:
            sys.stdout.write("\n".join(lines) + "\n")
        return
    from tcup.tempest_env import find_tempest

    loaded.program(target)  # an unknown target fails before any Tempest work
    index = load_test_index(find_tempest(tempest_python))
    resolution = resolve_entries(select_entries(loaded, target, statuses=statuses, flagged=not no_flagged), index)
    if fmt == "json":
        click.echo(
            json.dumps(
                {
                    "guideline": loaded.id,
                    "target": target,
                    "tempest_version": resolution.tempest_version,
                    "counts": resolution.counts(),
                    "entries": [r.as_dict(with_status=True) for r in resolution.items],
                },
                indent=2,
            )
        )
    else:
        for local_id in resolution.local_ids():
            click.echo(local_id)
    counts = resolution.counts()
    click.echo(
        f"tcup: {len(resolution.items)} guideline entries against Tempest {resolution.tempest_version}: "
        f"{counts['id']} by id, {counts['renamed']} renamed, {counts['name']} by name, "
        f"{counts['alias']} by alias, {counts['missing']} missing",
        err=True,
    )
    for r in resolution.items:
        if r.how in (Match.MISSING, Match.RENAMED):
            click.echo(f"  {r.how.value}: {r.entry.name} ({r.capability}): {r.note}", err=True)


@click.command("check-guideline")
@guideline_option
@guidelines_dir_option
@server_option
@timeout_option
@click.option("--strict", is_flag=True, help="Exit with status 1 when there is any warning.")
def check_guideline_command(
    guideline: str, guidelines_dir: str | None, server: str | None, timeout: float, strict: bool
) -> None:
    """Validate a guideline and list every data-quality warning it has."""
    loaded = load_guideline(guideline, GuidelineLocation.from_options(guidelines_dir, server, timeout))
    click.echo(
        f"{loaded.source}: guideline {loaded.id}, schema {loaded.schema}, "
        f"{len(loaded.capabilities)} capabilities, targets {', '.join(loaded.targets)}"
    )
    for warning in loaded.warnings:
        click.echo(f"warning: {warning}")
    click.echo(f"{len(loaded.warnings)} warnings")
    if strict and loaded.warnings:
        sys.exit(1)
