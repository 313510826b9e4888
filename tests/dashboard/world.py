"""The runs every dashboard test looks at, uploaded through the real API (POST /v1/results/).

Built from the real 2020.06 guideline, platform target (78 required capabilities):

==============  ==========================  =====================================================
run             who                          what
==============  ==========================  =====================================================
alpha_1         owner, signed, shared        every required test passes; verified by the Foundation
alpha_2         owner, signed, shared        ``FAILED_CAP`` has a failed test (reason ``SECRET``),
                                             ``MISSING_CAP`` not run, a flagged test of
                                             ``FLAGGED_CAP`` not passed; extended document
alpha_3         owner, signed, *private*     every test passes except one (reason ``PRIVATE``)
beta_1          anonymous                    every required test passes
beta_2          anonymous                    only the ``compute-*`` capabilities
xss             anonymous                    every required test, plus names carrying HTML and
                                             scripts; meta target set to HTML by the Foundation
dns             anonymous                    the DNS add-on's tests; meta target ``dns``
==============  ==========================  =====================================================
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric import rsa

from interop_model import CaseResult, Guideline, Outcome, Provenance, RunReport, Status, load_guideline_text
from interop_model.wire import dumps_v1, to_extended_document, to_v1_document
from tests.webapp.signing import openssh_line, self_signature, sign

Send = Callable[[str, str, bytes, dict[str, str]], tuple[int, Any]]  # (method, path, body, headers) -> (status, JSON)

ALPHA, BETA, XSS_CPID, DNS_CPID = "alpha-cloud-7f3e", "beta-cloud-1c2d", "xss-cloud-9a9a", "dns-cloud-5b5b"
FAILED_CAP, MISSING_CAP, FLAGGED_CAP = "compute-servers-create", "identity-v3-tokens-create", "networks-l3-CRUD"
SECRET = "SECRET-REASON: Quota exceeded for instances"
PRIVATE = "PRIVATE-REASON: only the owner sees this"
TEMPEST = "41.0.0"
XSS_NAMES = (
    "tempest.api.evil.Test.test_<script>window.__xss=1</script>",
    'tempest.api.evil.Test.test_"><img src=x onerror="window.__xss=2">',
    "tempest.api.evil.Test.test_</textarea><svg onload=window.__xss=3>",
)
XSS_META = "<b>bold</b><script>window.__xss=4</script>"


@dataclass
class World:
    """Run ids, the parties' tokens and the guideline the runs were built from."""

    runs: dict[str, str] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)
    guideline: Guideline | None = None
    required: list[str] = field(default_factory=list)  # required capabilities of 2020.06 platform

    @property
    def public_runs(self) -> list[str]:
        """Every run but the private one."""
        return [v for k, v in self.runs.items() if k != "alpha_3"]


def load(interop: Path, name: str) -> Guideline:
    """A real guideline file."""
    return load_guideline_text((interop / name).read_text(encoding="utf-8"), source=name)


def _cases(
    guideline: Guideline,
    target: str,
    *,
    skip: Callable[[str, Any], bool] = lambda c, e: False,
    fail: dict[str, str] | None = None,
) -> list[CaseResult]:
    cases: dict[str, CaseResult] = {}
    for cap, entry in guideline.entries_for(target, [Status.REQUIRED]):
        if skip(cap, entry):
            continue
        reason = (fail or {}).get(entry.name)
        cases[entry.name] = CaseResult(
            test_id=entry.name,
            idempotent_id=entry.uuid,
            outcome=Outcome.FAIL if reason else Outcome.SUCCESS,
            reason=reason,
        )
    return list(cases.values())


def _run(cpid: str, cases: list[CaseResult], *, started: str) -> RunReport:
    provenance = Provenance(
        tempest_version=TEMPEST,
        tcup_version="0.1.0",
        guideline="2020.06",
        target="platform",
        started_at=started,
        plugins=(("designate-tempest-plugin", "0.19.0"),),
    )
    return RunReport(cpid=cpid, duration_seconds=1830, results=tuple(cases), provenance=provenance)


def build_world(send: Send, interop: Path, *, owner_key: rsa.RSAPrivateKey, tokens: dict[str, str]) -> World:
    """Register the owner's key and upload every run through ``send``; ``tokens`` holds
    ``owner``, ``other`` and ``foundation`` API tokens."""
    world = World(tokens=dict(tokens))
    g = world.guideline = load(interop, "2020.06.json")
    world.required = [n for n, s in g.target_statuses("platform").items() if s is Status.REQUIRED]
    owner = {"Authorization": f"Bearer {tokens['owner']}"}
    foundation = {"Authorization": f"Bearer {tokens['foundation']}"}
    key_doc = json.dumps(
        {"raw_key": openssh_line(owner_key, "owner@laptop"), "self_signature": self_signature(owner_key)}
    ).encode()
    status, answer = send("POST", "/v1/profile/pubkeys", key_doc, {**owner, "Content-Type": "application/json"})
    assert status == 201, answer

    def upload(name: str, run: RunReport, *, key: rsa.RSAPrivateKey | None = None, extended: bool = False) -> str:
        body = dumps_v1(to_v1_document(run))
        headers = sign(body, key) if key else {"Content-Type": "application/json"}
        status, answer = send("POST", "/v1/results/", body, headers)
        assert status == 201, answer
        world.runs[name] = answer["test_id"]
        if extended and key is not None:
            ext = json.dumps(to_extended_document(run)).encode()
            status, answer = send("POST", f"/v2/runs?test_id={world.runs[name]}", ext, sign(ext, key))
            assert status == 201, answer
        return world.runs[name]

    def meta(name: str, headers: dict[str, str], **values: str) -> None:
        for key, value in values.items():
            status, answer = send("POST", f"/v1/results/{world.runs[name]}/meta/{key}", value.encode(), headers)
            assert status == 201, answer

    failing = next(e.name for e in g.capabilities[FAILED_CAP].tests if not e.flagged)
    flagged = next(e.name for e in g.capabilities[FLAGGED_CAP].tests if e.flagged)
    upload("alpha_1", _run(ALPHA, _cases(g, "platform"), started="2020-07-01T10:00:00Z"), key=owner_key, extended=True)
    upload(
        "alpha_2",
        _run(
            ALPHA,
            _cases(g, "platform", fail={failing: SECRET}, skip=lambda c, e: c == MISSING_CAP or e.name == flagged),
            started="2020-08-01T10:00:00Z",
        ),
        key=owner_key,
        extended=True,
    )
    upload(
        "alpha_3",
        _run(ALPHA, _cases(g, "platform", fail={failing: PRIVATE}), started="2020-09-01T10:00:00Z"),
        key=owner_key,
        extended=True,
    )
    upload("beta_1", _run(BETA, _cases(g, "platform"), started=""))
    upload("beta_2", _run(BETA, _cases(g, "platform", skip=lambda c, e: not c.startswith("compute-")), started=""))
    xss_cases = [*_cases(g, "platform"), *(CaseResult(test_id=n) for n in XSS_NAMES)]
    upload("xss", _run(XSS_CPID, xss_cases, started=""))
    upload("dns", _run(DNS_CPID, _cases(load(interop, "add-ons/dns.2020.06.json"), "dns"), started=""))
    for name in ("alpha_1", "alpha_2"):
        meta(name, owner, shared="true", guideline="2020.06.json", target="platform")
    meta("xss", foundation, guideline="2020.06.json", target=XSS_META)
    meta("dns", foundation, guideline="2020.06.json", target="dns")
    status, answer = send(
        "PUT",
        f"/v1/results/{world.runs['alpha_1']}",
        b'{"verification_status": 1}',
        {**foundation, "Content-Type": "application/json"},
    )
    assert status == 201, answer
    return world


# What the run page of alpha_2 shows for the three special capabilities.
PUBLIC_STATES = {FAILED_CAP: "missing", MISSING_CAP: "missing", FLAGGED_CAP: "flagged"}
PRIVILEGED_STATES = {FAILED_CAP: "failed", MISSING_CAP: "missing", FLAGGED_CAP: "flagged"}


__all__ = [
    "ALPHA",
    "BETA",
    "DNS_CPID",
    "FAILED_CAP",
    "FLAGGED_CAP",
    "MISSING_CAP",
    "PRIVATE",
    "SECRET",
    "TEMPEST",
    "PRIVILEGED_STATES",
    "PUBLIC_STATES",
    "World",
    "XSS_CPID",
    "XSS_META",
    "XSS_NAMES",
    "build_world",
    "load",
]
