"""Exemptions as the runner reads them: the shared list, plus files given with ``--exemptions``.

The list and its rules are the shared model's (:mod:`interop_model.exemptions`, data in
``interop_model/data/exemptions.json``), so the service names the same exemptions. An exemption
never turns a test into a pass: :mod:`tcup.verdicts` names each exempted test with its reason and
source, and keeps RefStack's verdict, which knows no exemption, beside tcup's.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import yaml

from interop_model.exemptions import (
    Exemption,
    ExemptionKind,
    InvalidExemptions,
    When,
    applicable_exemptions,
    bundled_exemptions,
)
from interop_model.exemptions import read_exemptions as read_exemption_data
from tcup.errors import TcupError

__all__ = [
    "Exemption",
    "ExemptionKind",
    "When",
    "applicable_exemptions",
    "load_exemptions",
    "read_exemptions",
]


def read_exemptions(text: str, *, source: str) -> list[Exemption]:
    """Read an exemptions document, YAML or JSON (the format of ``interop_model/data/exemptions.json``).

    :raises TcupError: listing every problem of the document.
    """
    try:
        data = yaml.safe_load(text)  # NOTE: YAML reads JSON too
    except yaml.YAMLError as exc:
        raise TcupError(f"{source} is not YAML or JSON: {exc}") from None
    try:
        return read_exemption_data(data, source=source)
    except InvalidExemptions as exc:
        raise TcupError(str(exc)) from None


def load_exemptions(extra_files: Sequence[str | Path] = ()) -> list[Exemption]:
    """The bundled exemptions, then those of ``extra_files``."""
    found = bundled_exemptions()
    for path in extra_files:
        try:
            text = Path(path).read_text()
        except OSError as exc:
            raise TcupError(f"cannot read the exemptions file {path}: {exc.strerror}") from None
        found.extend(read_exemptions(text, source=str(path)))
    return found
