"""The runner's shape: click and rich only in the command layer (tcup/cli.py and tcup/commands/)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

TCUP = Path(__file__).resolve().parents[2] / "tcup"
LIBRARY = sorted(p for p in TCUP.rglob("*.py") if "commands" not in p.relative_to(TCUP).parts and p.name != "cli.py")


@pytest.mark.parametrize("path", LIBRARY, ids=lambda p: str(p.relative_to(TCUP)))
def test_no_click_or_rich_below_the_commands(path: Path) -> None:
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        names = (
            [a.name for a in node.names]
            if isinstance(node, ast.Import)
            else [node.module or ""]
            if isinstance(node, ast.ImportFrom)
            else []
        )
        for name in names:
            assert name.split(".")[0] not in ("click", "rich"), f"{path.name} imports {name}"
