"""``tcup run`` as an importable function: credentials -> discovery -> tempest.conf -> selection ->
stestr -> outputs -> compliance. The click command in :mod:`tcup.commands.run` only parses options.

Whatever happens once Tempest has started (test failures, a dying cloud, Ctrl-C), every output file
is written from what finished, and secrets are scrubbed from the output folder before returning.
"""

from __future__ import annotations

import fnmatch
import importlib.metadata
import logging
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from interop_model.compliance import evaluate
from interop_model.guidelines import Guideline, Status
from interop_model.results import Provenance, RunReport, RunSelection
from tcup.credentials import CloudCredentials, TestAccount
from tcup.discovery import CloudFacts, discover_cloud
from tcup.errors import ResolutionError, TcupError
from tcup.exemptions import Exemption, applicable_exemptions, load_exemptions
from tcup.reporting import (
    OUTPUT_FILES,
    ComplianceSection,
    compliance_document,
    scrub_outputs,
    write_json,
    write_run_documents,
)
from tcup.resolution import Resolution, resolve_entries, select_entries
from tcup.runner import RunOutcome, run_tests, select_by_regex, workspace_dir
from tcup.subunit_reader import ResultListener, expand_class_results
from tcup.tempest_config import TempestFiles, count_members, plan_accounts, write_tempest_files
from tcup.tempest_env import TempestEnv, find_tempest
from tcup.test_index import TempestInstall, TestIndex, load_test_index, probe_install
from tcup.verdicts import judge_section

__all__ = ["GuidelineTarget", "RunResult", "Selection", "run_interop"]

LOG = logging.getLogger(__name__)
DEFAULT_IO_THREADS = 4


@dataclass(frozen=True, slots=True, kw_only=True)
class GuidelineTarget:
    """A guideline to select tests from (and judge the run against) for one target."""

    guideline: Guideline
    target: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Selection:
    """Which tests to run: guideline entries (optionally some capabilities), regexes, or everything."""

    guidelines: Sequence[GuidelineTarget] = ()
    capabilities: Sequence[str] = ()  # names or glob patterns (identity-v3-*)
    statuses: Sequence[Status] = (Status.REQUIRED,)
    include_flagged: bool = False
    regexes: Sequence[str] = ()
    run_all: bool = False


@dataclass(slots=True, kw_only=True)
class RunResult:
    """What ``tcup run`` produced."""

    output: Path
    run: RunReport
    sections: list[ComplianceSection]
    outcome: RunOutcome
    facts: CloudFacts
    files: dict[str, Path]
    timings: dict[str, float] = field(default_factory=dict)
    selected_capabilities: list[str] | None = None

    @property
    def selection_meta(self) -> RunSelection | None:
        """What the run chose to test (its main guideline), as uploaded."""
        return self.run.selection

    @property
    def interrupted(self) -> bool:
        """True when the run was stopped by a signal."""
        return self.outcome.interrupted

    def compliant(self) -> bool:
        """tcup's verdict for every guideline and target (exemptions honoured); without a guideline,
        no test failed and every test finished."""
        if not self.sections:
            counts = self.run.counts()
            return counts["fail"] + counts["uxsuccess"] == 0 and not self.outcome.read.incomplete
        return all(s.verdict.tcup_compliant for s in self.sections)


def expand_capabilities(
    guideline: Guideline, target: str, patterns: Sequence[str], statuses: Sequence[Status] | None
) -> list[str]:
    """Capability names of the target matching the patterns (exact names or globs).

    :raises ResolutionError: for a pattern that matches no capability of the target.
    """
    names = guideline.target_capabilities(target, statuses)
    chosen: dict[str, None] = {}
    for pattern in patterns:
        hits = [n for n in names if fnmatch.fnmatchcase(n, pattern)]
        if not hits:
            raise ResolutionError(
                f"--capability {pattern!r} matches no {'/'.join(s.value for s in statuses or [])} capability "
                f"of target {target!r} in guideline {guideline.id}; see `tcup list-tests -g {guideline.id}`"
            )
        chosen.update(dict.fromkeys(hits))
    return list(chosen)


def _select(
    selection: Selection, index: TestIndex
) -> tuple[list[str], list[tuple[GuidelineTarget, Resolution, list[str] | None]], list[str] | None]:
    resolutions: list[tuple[GuidelineTarget, Resolution, list[str] | None]] = []
    ids: dict[str, None] = {}
    chosen_caps: list[str] | None = None
    for gt in selection.guidelines:
        gt.guideline.program(gt.target)  # an unknown target fails here
        caps = None
        if selection.capabilities:
            caps = expand_capabilities(gt.guideline, gt.target, selection.capabilities, selection.statuses)
            chosen_caps = [*(chosen_caps or []), *caps]
        entries = select_entries(
            gt.guideline, gt.target, statuses=selection.statuses, capabilities=caps, flagged=selection.include_flagged
        )
        resolution = resolve_entries(entries, index)
        resolutions.append((gt, resolution, caps))
        if not (selection.regexes or selection.run_all):
            ids.update(dict.fromkeys(resolution.local_ids()))
    if selection.run_all:
        ids = dict.fromkeys(index.ids)
    elif selection.regexes:
        ids = dict.fromkeys(select_by_regex(index.ids, selection.regexes))
    return list(ids), resolutions, chosen_caps


def run_interop(
    *,
    creds: CloudCredentials,
    selection: Selection,
    output: Path,
    extra_accounts: Sequence[TestAccount] = (),
    concurrency: int | None = None,
    io_threads: int | None = None,
    tempest_python: str | None = None,
    tempest_options: Mapping[str, str] | None = None,
    listener_factory: Callable[[int], Any] | None = None,
    discovery_timeout: float = 20.0,
    keep_timings: bool = True,
    extra_secrets: Sequence[str] = (),
    exemptions: Sequence[Exemption] | None = None,
    environments: Sequence[str] = (),
) -> RunResult:
    """Run the selected tests against the cloud ``creds`` reach and write every output to ``output``.

    :param listener_factory: called with the number of tests; returns a context manager that is
        also a :class:`~tcup.subunit_reader.ResultListener` (the progress display).
    :param tempest_options: ``section.key`` -> value overrides for tempest.conf.
    :param exemptions: tests this Tempest cannot run non-admin (default: interop_model/data/exemptions.json);
        those of kind ``environment`` apply only for the named ``environments``.
    :raises TcupError: for anything that stops the run before Tempest starts.
    """
    _check_output(output)
    known_exemptions = load_exemptions() if exemptions is None else list(exemptions)
    timings: dict[str, float] = {}
    started_at = datetime.now(UTC).replace(microsecond=0).isoformat()
    # NOTE: the login (network) and the Tempest probes (two subprocesses) overlap
    t0 = time.monotonic()
    with ThreadPoolExecutor(max_workers=1) as pool:
        tempest_future = pool.submit(_find_install, tempest_python)
        facts = discover_cloud(creds, timeout=discovery_timeout)
        timings["discovery"] = time.monotonic() - t0
        env, install = tempest_future.result()
    t0 = time.monotonic()
    index = load_test_index(env, install=install)
    test_ids, resolutions, chosen_caps = _select(selection, index)
    timings["selection"] = time.monotonic() - t0
    if not test_ids:
        missing = sum(len(r.missing()) for _, r, _ in resolutions)
        raise ResolutionError(
            f"no installed Tempest test matches the selection ({missing} guideline tests "
            f"missing from Tempest {install.version}); check --capability/--regex"
        )

    accounts = plan_accounts(creds, facts, extra_accounts)
    members = count_members(accounts)
    wanted = concurrency or os.cpu_count() or 2
    workers = max(1, min(wanted, members))
    if workers < wanted:
        LOG.warning(
            "running %d Tempest workers instead of %d: there are %d member accounts, and each worker "
            "holds one (add accounts with --accounts-file or --extra-cloud)",
            workers,
            wanted,
            members,
        )
    threads = plan_threads(io_threads, workers, members)
    if len(accounts) == 1:
        LOG.warning(
            "only one account: Tempest 47 also needs a reader in the same project (image tests) and a "
            "second project's user (alt tests); pass them with --accounts-file or --extra-cloud"
        )

    output.mkdir(parents=True, exist_ok=True)
    secrets = [*creds.secrets(), *(a.password.reveal() for a in extra_accounts), facts.token.reveal(), *extra_secrets]
    private = Path(tempfile.mkdtemp(prefix="tcup-run-"))
    try:
        t0 = time.monotonic()
        files = write_tempest_files(private, facts, creds, accounts, overrides=tempest_options)
        _save_conf(files, private, output / OUTPUT_FILES["tempest_conf"])
        timings["config"] = time.monotonic() - t0
        outcome = _run(env, install, files, test_ids, workers, threads, output, facts, listener_factory, keep_timings)
        timings["tempest"] = outcome.seconds
        t0 = time.monotonic()
        run = RunReport(
            cpid=facts.cpid,
            duration_seconds=int(outcome.seconds),
            results=tuple(expand_class_results(outcome.read.results, test_ids)),
            provenance=Provenance(
                tempest_version=install.version,
                plugins=install.plugins,
                tcup_version=_tcup_version(),
                guideline=",".join(gt.guideline.id for gt in selection.guidelines) or None,
                target=",".join(gt.target for gt in selection.guidelines) or None,
                auth_url_fingerprint=facts.fingerprint,
                region=facts.region,
                started_at=started_at,
                environments=tuple(environments),
            ),
            selection=_run_selection(selection, resolutions),
        )
        paths = write_run_documents(output, run)
        paths["tempest_conf"] = output / OUTPUT_FILES["tempest_conf"]
        paths["stestr_log"] = outcome.stderr_path
        applicable = applicable_exemptions(known_exemptions, install.version, environments)
        sections = []
        for gt, res, caps in resolutions:
            report = evaluate(gt.guideline, gt.target, run)
            sections.append(ComplianceSection(report, res, judge_section(report, res, applicable, selected=caps)))
        if sections:
            paths["compliance"] = output / OUTPUT_FILES["compliance"]
            write_json(paths["compliance"], compliance_document(sections))
        if (files.log_dir / "tempest.log").is_file():
            shutil.copyfile(files.log_dir / "tempest.log", output / OUTPUT_FILES["tempest_log"])
            paths["tempest_log"] = output / OUTPUT_FILES["tempest_log"]
        paths["subunit"] = outcome.subunit_path
        timings["reporting"] = time.monotonic() - t0
        result = RunResult(
            output=output,
            run=run,
            sections=sections,
            outcome=outcome,
            facts=facts,
            files=paths,
            timings=timings,
            selected_capabilities=chosen_caps,
        )
        paths["summary"] = output / OUTPUT_FILES["summary"]
        write_json(paths["summary"], _summary(result, test_ids, workers, threads, install))
    finally:
        shutil.rmtree(private, ignore_errors=True)
        scrub_outputs(output, secrets)
    return result


def _run_selection(
    selection: Selection, resolutions: Sequence[tuple[GuidelineTarget, Resolution, list[str] | None]]
) -> RunSelection | None:
    if not resolutions or selection.regexes or selection.run_all:
        return None
    gt, _, caps = resolutions[0]
    names = caps if caps is not None else gt.guideline.target_capabilities(gt.target, selection.statuses)
    return RunSelection(
        guideline=gt.guideline.id,
        target=gt.target,
        capability_globs=tuple(selection.capabilities),
        capabilities=tuple(names),
        statuses=tuple(s.value for s in selection.statuses),
    )


def _save_conf(files: TempestFiles, private: Path, saved: Path) -> None:
    """Keep tempest.conf in the outputs, without the private paths deleted after the run."""
    text = files.conf.read_text()
    text = text.replace(str(files.accounts), "accounts.yaml (not kept: it holds the passwords)")
    text = text.replace(str(files.log_dir), str(saved.parent.resolve()))
    text = text.replace(str(private), "<private folder, deleted after the run>")
    saved.write_text(
        "# tempest.conf as tcup generated it for this run. To run Tempest with it, write your own\n"
        "# accounts.yaml (see `tcup accounts`) and set [auth] test_accounts_file and [oslo_concurrency] lock_path.\n"
        + text
    )


def _find_install(tempest_python: str | None) -> tuple[TempestEnv, TempestInstall]:
    env = find_tempest(tempest_python)
    return env, probe_install(env)


def _check_output(output: Path) -> None:
    """Fail before any work when the output folder cannot be written."""
    try:
        output.mkdir(parents=True, exist_ok=True)
        probe = output / f".tcup-write-test-{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise TcupError(
            f"cannot write the output folder {output}: {exc.strerror}. Choose another --output; in Docker, "
            'create the mounted folder first (mkdir -p out) and run with --user "$(id -u):$(id -g)"'
        ) from None


def plan_threads(requested: int | None, workers: int, members: int) -> int:
    """Test classes each worker runs at once.

    Tempest's API tests mostly wait on the cloud, so by default each worker runs up to
    :data:`DEFAULT_IO_THREADS` classes at a time. Every running class holds a member account (two with
    an ``alt`` user), so all workers together run at most half as many classes as there are member
    accounts; a requested number is capped the same way, with a warning.
    """
    fits = max(1, (members // 2) // workers)
    threads = min(requested or DEFAULT_IO_THREADS, fits)
    if requested and threads < requested:
        LOG.warning(
            "running %d test classes per worker instead of %d: %d workers x %d classes need twice as "
            "many member accounts (there are %d; add some with --accounts-file or --extra-cloud)",
            threads,
            requested,
            workers,
            requested,
            members,
        )
    return threads


def _run(
    env: TempestEnv,
    install: TempestInstall,
    files: TempestFiles,
    test_ids: list[str],
    workers: int,
    threads: int,
    output: Path,
    facts: CloudFacts,
    listener_factory: Callable[[int], Any] | None,
    keep_timings: bool,
) -> RunOutcome:
    workspace = workspace_dir(facts.fingerprint, install) if keep_timings else None
    kwargs: dict[str, Any] = dict(
        env=env,
        install=install,
        files=files,
        test_ids=test_ids,
        concurrency=workers,
        threads=threads,
        subunit_path=output / OUTPUT_FILES["subunit"],
        stderr_path=output / OUTPUT_FILES["stestr_log"],
        workspace=workspace,
    )
    if listener_factory is None:
        return run_tests(**kwargs)
    with listener_factory(len(test_ids)) as listener:
        listener_typed: ResultListener = listener
        return run_tests(listener=listener_typed, **kwargs)


def _summary(
    result: RunResult, test_ids: list[str], workers: int, threads: int, install: TempestInstall
) -> dict[str, Any]:
    counts = result.run.counts()
    return {
        "cpid": result.facts.cpid,
        "cpid_source": result.facts.cpid_source,
        "auth_url_fingerprint": result.facts.fingerprint,
        "region": result.facts.region,
        "tempest_version": install.version,
        "plugins": [list(p) for p in install.plugins],
        "selected_tests": len(test_ids),
        "concurrency": workers,
        "io_threads": threads,
        "counts": counts,
        "interrupted": result.outcome.interrupted,
        "incomplete_tests": result.outcome.read.incomplete,
        "stream_problems": result.outcome.read.problems,
        "stestr_exit_status": result.outcome.returncode,
        "compliant": {f"{s.report.guideline}/{s.report.target}": s.verdict.tcup_compliant for s in result.sections},
        "refstack_compliant": {
            f"{s.report.guideline}/{s.report.target}": s.report.refstack_compliant for s in result.sections
        },
        "timings_seconds": {k: round(v, 3) for k, v in result.timings.items()},
        "discovery_notes": list(result.facts.notes),
        "files": {k: p.name for k, p in result.files.items()},
    }


def _tcup_version() -> str | None:
    try:
        return importlib.metadata.version("tcup")
    except importlib.metadata.PackageNotFoundError:
        return None
