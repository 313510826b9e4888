"""Help texts and the README stay in step with the code."""

from __future__ import annotations

import importlib
import re
from collections.abc import Iterator
from pathlib import Path

import click
import pytest

REPO = Path(__file__).resolve().parent.parent
CLIS = {"tcup": "tcup.cli:cli", "tcup-score": "scoring.cli:cli", "tcup-server": "webapp.cli:cli"}


def _load(spec: str) -> click.Command | None:
    module, _, attr = spec.partition(":")
    try:
        return getattr(importlib.import_module(module), attr)
    except (ImportError, AttributeError):
        return None


def _walk(command: click.Command, path: str) -> Iterator[tuple[str, click.Command]]:
    yield path, command
    if isinstance(command, click.Group):
        for name, sub in command.commands.items():
            yield from _walk(sub, f"{path} {name}")


def _all_commands() -> list[tuple[str, click.Command]]:
    found: list[tuple[str, click.Command]] = []
    for script, spec in CLIS.items():
        command = _load(spec)
        if command is not None:
            found.extend(_walk(command, script))
    return found


@pytest.mark.parametrize(("path", "command"), _all_commands(), ids=lambda v: v if isinstance(v, str) else "")
def test_every_command_has_help(path: str, command: click.Command) -> None:
    assert (command.help or "").strip(), f"`{path}` has no help text"
    for param in command.params:
        if isinstance(param, click.Option) and not param.hidden:
            assert (param.help or "").strip(), f"`{path}` option {param.opts} has no help text"


# each console script starts at a launcher that turns a missing extra into one line
LAUNCHERS = {"tcup": "tcup.__main__", "tcup-score": "scoring.__main__", "tcup-server": "webapp.__main__"}


def test_console_scripts_are_declared() -> None:
    text = (REPO / "pyproject.toml").read_text()
    for script, module in LAUNCHERS.items():
        assert f'{script} = "{module}:main"' in text


@pytest.mark.parametrize("path", ["tcup list-tests", "tcup check-guideline", "tcup devcloud"])
def test_readme_mentions_commands(path: str) -> None:
    assert path in (REPO / "README.md").read_text()


@pytest.mark.parametrize("readme", ["README.md", "webapp/README.md"])
def test_every_service_setting_is_a_row_of_the_settings_tables(readme: str) -> None:
    settings = pytest.importorskip("webapp.settings")
    # NOTE: TCUP_-prefixed rows belong to the scripts' tables (the demo's), not the service's
    rows = {
        r for r in re.findall(r"^\| `([A-Z_]+)` \|", (REPO / readme).read_text(), re.M) if not r.startswith("TCUP_")
    }
    declared = {s.name for s in settings.SETTINGS}
    assert declared - rows == set(), f"{readme} does not document these settings"
    assert rows - declared == set(), f"{readme} documents settings that do not exist"


def test_every_setting_the_service_reads_is_declared() -> None:
    settings = pytest.importorskip("webapp.settings")
    declared = {s.name for s in settings.SETTINGS}
    read = set()
    for path in (REPO / "webapp").rglob("*.py"):
        read |= set(re.findall(r"config(?:\.get\(|\[)\s*[\"']([A-Z][A-Z_]+)[\"']", path.read_text()))
    flask_own = {"MAX_CONTENT_LENGTH", "SESSION_COOKIE_SAMESITE", "TESTING"}
    assert read - declared - flask_own == set()


# Citations of documents that are not part of the project (built here, so this file does not match).
FOREIGN_CITATION = re.compile("(?:" + "REFERENCE" + "|" + "STYLE" + r")[\s#*]*§")
SKIPPED_DIRS = {".git", ".venv", "node_modules", "artifacts", "build", "dist"}
TEXT_SUFFIXES = {".py", ".html", ".md", ".txt", ".toml", ".sh", ".cfg", ".ini", ".yaml", ".yml", ".css", ".json", ""}


def _tree() -> Iterator[Path]:
    for path in REPO.rglob("*"):
        parts = set(path.relative_to(REPO).parts)
        if path.is_file() and not parts & SKIPPED_DIRS and not any(p.startswith(".") for p in parts):
            if path.suffix in TEXT_SUFFIXES or path.name == "Dockerfile":
                yield path


def test_nothing_cites_documents_outside_the_project() -> None:
    found = []
    for path in _tree():
        try:
            text = path.read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            continue
        found += [f"{path.relative_to(REPO)}: {m.group(0)!r}" for m in FOREIGN_CITATION.finditer(text)]
    assert found == [], "pages, messages and comments must speak in the project's own words"


def test_the_citation_check_has_teeth(tmp_path: Path) -> None:
    assert FOREIGN_CITATION.search("a rule (" + "REFERENCE" + " §3.5)")
    assert FOREIGN_CITATION.search("by alias (" + "REFERENCE" + "\n§2.3)")
    assert FOREIGN_CITATION.search("# see " + "STYLE" + "\n# §4.10")
    assert not FOREIGN_CITATION.search("the REFERENCE implementation, section 3")


def test_runner_report_exit_statuses_and_options_are_documented() -> None:
    """The README says what `tcup run` exits with, what each test state means, and the runner's options."""
    readme = (REPO / "README.md").read_text()
    from tcup.cli import cli
    from tcup.verdicts import STATES

    for state in STATES:
        assert f"| `{state.value}` |" in readme, f"README does not explain the state {state.value}"
    for status in ("| 0 |", "| 1 |", "| 2 |", "| 130 |"):
        assert status in readme
    for command, options in {
        "run": ("--format", "--exemptions", "--environment", "--timeout", "--token", "--accounts-file"),
        "upload": ("--timeout",),
        "accounts": ("--from-cloud", "--force", "--os-client-config-file"),
    }.items():
        assert f"tcup {command}" in readme
        known = {o for p in cli.commands[command].params for o in getattr(p, "opts", [])}
        for option in options:
            assert option in known and option in readme, f"tcup {command} {option}"
    assert "Idempotency-Key" in readme and "interop_model/data/exemptions.json" in readme


def _readme_for(path: str) -> tuple[str, str]:
    name = "webapp/README.md" if path.startswith("tcup-server") else "README.md"
    return name, (REPO / name).read_text()


@pytest.mark.parametrize(("path", "command"), _all_commands(), ids=lambda v: v if isinstance(v, str) else "")
def test_the_readme_documents_every_command_and_long_option(path: str, command: click.Command) -> None:
    name, readme = _readme_for(path)
    # the whole path, as typed (``tcup devcloud up``), not a longer command that starts with it
    assert re.search(rf"(?<![\w-]){re.escape(path)}(?![\w-])", readme), f"{name} does not show `{path}`"
    missing = [
        option
        for param in command.params
        if isinstance(param, click.Option) and not param.hidden
        for option in [*param.opts, *param.secondary_opts]
        if option.startswith("--") and not re.search(rf"(?<![\w-]){re.escape(option)}(?![\w-])", readme)
    ]
    assert missing == [], f"{name} does not document `{path}` {missing}"
