"""``tcup self-check`` (also ``tcup --self-check``): check this install without a cloud."""

from __future__ import annotations

import click

from tcup.self_check import run_self_check

__all__ = ["self_check_command"]


@click.command("self-check")
def self_check_command() -> int:
    """Check this install without a cloud: imports, Tempest, the test index, signing, subunit."""
    results = run_self_check()
    for result in results:
        click.echo(f"{'ok  ' if result.ok else 'FAIL'} {result.name}: {result.detail}")
    failed = [r.name for r in results if not r.ok]
    click.echo("self-check: " + ("all checks passed" if not failed else f"failed: {', '.join(failed)}"))
    return 1 if failed else 0
