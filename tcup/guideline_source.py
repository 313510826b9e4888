"""Find a guideline from what the user typed after ``--guideline``.

Accepted forms, tried in this order:

* a path to a file (``../interop/2020.06.json``);
* an ``http(s)://`` URL, fetched with a timeout and cached on disk, so a later run
  works offline;
* a version name (``2020.06``, ``next``, ``dns.2020.06``), looked up in the guidelines
  directory (``--guidelines-dir`` or ``$TCUP_GUIDELINES_DIR``, also in its ``add-ons/``
  folder) and then on a collector service (``--server`` or ``$TCUP_SERVER``).

Nothing is ever fetched from GitHub or any other default location.
"""

from __future__ import annotations

import hashlib
import os
import re
import time
from dataclasses import dataclass
from pathlib import Path

import requests

from interop_model.errors import InvalidGuideline
from interop_model.guideline_loader import load_guideline_text
from interop_model.guidelines import Guideline
from tcup.errors import GuidelineSourceError
from tcup.http_client import DEFAULT_DEADLINE, DeadlineExceeded, RetryPolicy, request_before

VERSION_NAME = re.compile(r"^(?:(?P<addon>[a-z][a-z0-9_-]*)\.)?(?P<version>\d{4}\.\d{2}|next)(?:\.json)?$")
TIMEOUT = (5.0, 30.0)  # connect, read


@dataclass(frozen=True, slots=True)
class GuidelineLocation:
    """Where to look for guidelines named by version."""

    directory: Path | None = None
    server: str | None = None
    cache_dir: Path | None = None
    deadline: float = DEFAULT_DEADLINE  # seconds a fetch may take in all

    @classmethod
    def from_options(
        cls, directory: str | Path | None = None, server: str | None = None, deadline: float | None = None
    ) -> GuidelineLocation:
        """Fill the gaps from ``$TCUP_GUIDELINES_DIR`` and ``$TCUP_SERVER``."""
        directory = directory or os.environ.get("TCUP_GUIDELINES_DIR") or None
        server = server or os.environ.get("TCUP_SERVER") or None
        return cls(
            Path(directory) if directory else None,
            server.rstrip("/") if server else None,
            cache_dir(),
            deadline or DEFAULT_DEADLINE,
        )


def cache_dir() -> Path:
    """The folder where fetched guidelines are kept."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "tcup" / "guidelines"


def file_name_for(name: str) -> str | None:
    """``2020.06`` -> ``2020.06.json``, ``dns.2020.06`` -> ``dns.2020.06.json``; None if not a version name."""
    match = VERSION_NAME.match(name)
    if match is None:
        return None
    stem = f"{match['addon']}.{match['version']}" if match["addon"] else match["version"]
    return stem + ".json"


def load_guideline(spec: str, location: GuidelineLocation | None = None) -> Guideline:
    """Load the guideline ``spec`` names (a path, a URL or a version name).

    :raises GuidelineSourceError: when it cannot be found or fetched.
    :raises InvalidGuideline: when it is found but is not a valid guideline.
    """
    location = location or GuidelineLocation.from_options()
    if spec.startswith(("http://", "https://")):
        return _parse(_fetch(spec, location), source=spec)
    path = Path(spec).expanduser()
    if path.is_file():
        return _parse(_read(path), source=str(path))
    name = file_name_for(spec)
    if name is None:
        raise GuidelineSourceError(
            f"guideline {spec!r} is neither an existing file, an http(s) URL, nor a version name "
            "such as 2020.06 or dns.2020.06"
        )
    tried: list[str] = []
    if location.directory is not None:
        for candidate in (location.directory / name, location.directory / "add-ons" / name):
            if candidate.is_file():
                return _parse(_read(candidate), source=str(candidate))
            tried.append(str(candidate))
    if location.server is not None:
        url = f"{location.server}/v1/guidelines/{name}"
        return _parse(_fetch(url, location), source=url)
    hint = (
        "set --guidelines-dir (or TCUP_GUIDELINES_DIR) to a folder of guideline files, "
        "or --server (or TCUP_SERVER) to a collector service that has them"
    )
    where = f" (looked for {', '.join(tried)})" if tried else ""
    raise GuidelineSourceError(f"guideline {spec!r} not found{where}: {hint}")


def _parse(data: bytes, *, source: str) -> Guideline:
    try:
        return load_guideline_text(data, source=source)
    except InvalidGuideline:
        raise
    except RecursionError:
        raise InvalidGuideline(source, ["the JSON is nested too deeply"]) from None


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise GuidelineSourceError(f"cannot read guideline {path}: {exc.strerror}") from None


def _fetch(url: str, location: GuidelineLocation) -> bytes:
    """GET ``url``; on success keep a copy, and on failure fall back to the copy."""
    cached = None
    if location.cache_dir is not None:
        cached = location.cache_dir / (hashlib.sha256(url.encode()).hexdigest()[:24] + ".json")
    policy = RetryPolicy(deadline=location.deadline, connect_timeout=TIMEOUT[0], read_timeout=TIMEOUT[1])
    try:
        response = request_before(
            requests.Session(),
            "GET",
            url,
            deadline_at=time.monotonic() + policy.deadline,
            policy=policy,
            headers={"Accept": "application/json"},
        )
        response.raise_for_status()
    except DeadlineExceeded:
        if cached is not None and cached.is_file():
            return cached.read_bytes()
        raise GuidelineSourceError(
            f"cannot fetch guideline {url}: no complete answer within {policy.deadline:g} s; run again later "
            "(or with a larger --timeout), or download the file and pass it with --guideline FILE"
        ) from None
    except requests.RequestException as exc:
        if cached is not None and cached.is_file():
            return cached.read_bytes()
        status = getattr(getattr(exc, "response", None), "status_code", None)
        reason = f"HTTP {status}" if status else type(exc).__name__
        raise GuidelineSourceError(
            f"cannot fetch guideline {url}: {reason}; check the URL or server, or pass a local file with --guideline"
        ) from None
    body = response.content
    if "json" not in response.headers.get("Content-Type", "json") and body.lstrip()[:1] != b"{":
        raise GuidelineSourceError(f"{url} did not return JSON (got {response.headers.get('Content-Type')})")
    if cached is not None:
        try:
            cached.parent.mkdir(parents=True, exist_ok=True)
            tmp = cached.with_suffix(".tmp")
            tmp.write_bytes(body)
            tmp.replace(cached)
        except OSError:
            pass  # NOTE: a cache we cannot write only costs a refetch next time
    return body
