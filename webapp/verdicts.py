"""A run's two verdicts, as its page and ``GET /v1/results/<id>/compliance`` show them.

RefStack's verdict is :func:`interop_model.evaluate`'s, untouched. tcup's verdict
(:func:`interop_model.judge_verdicts`) honours the shared exemption list
(``interop_model/data/exemptions.json``, the runner's too) for what the run recorded:

* an exemption holds only when the run's extended document names a Tempest version in its range
  (a plain v1 upload names none, so it gets none), and one of kind ``environment`` only when
  that document's provenance names the environment (``tcup run --environment NAME``);
* it covers a test only when the run's outcomes say the test was skipped or not run (or also
  failed, for ``when: not-passed``). Viewers who see passed tests only are judged on those, but
  whether an exempted test was skipped is read from the stored outcomes, so an exemption never
  hides a failure; no failure reason is shown to them.

When the run recorded a selection of capabilities, and the guideline and target shown are the
ones it ran, tcup's verdict judges the selected capabilities, beside the whole target's.
"""

from __future__ import annotations

from dataclasses import dataclass
from fnmatch import fnmatchcase

from interop_model import ComplianceReport, RunReport, Verdicts, evaluate, judge_verdicts
from interop_model.errors import InteropModelError
from interop_model.exemptions import applicable_exemptions, bundled_exemptions
from webapp.store import Session, catalog
from webapp.store import runs as store
from webapp.store.catalog import LoadedGuideline

__all__ = ["Subset", "run_verdicts", "selected_subset"]


@dataclass(frozen=True, slots=True)
class Subset:
    """The run selected ``chosen``, ``len(chosen)`` of ``eligible`` capabilities of the target shown."""

    chosen: tuple[str, ...]
    eligible: int


def selected_subset(
    selection: store.StoredSelection | None, selected_from: LoadedGuideline | None, loaded: LoadedGuideline, target: str
) -> Subset | None:
    """The capabilities the run selected of the M (of its chosen statuses) of the guideline and
    target shown, as ``selected_from`` (its own guideline) names them; None: no selection recorded,
    the whole target selected, or another guideline or target shown."""
    if selection is None or selected_from is None or selected_from.file != loaded.file or selection.target != target:
        return None
    statuses = set(selection.statuses)
    eligible = [n for n, s in loaded.guideline.target_statuses(target).items() if s.value in statuses]
    if selection.capabilities:
        ran = set(selection.capabilities)
        chosen = [n for n in eligible if n in ran]
    elif selection.capability_globs:
        chosen = [n for n in eligible if any(fnmatchcase(n, g) for g in selection.capability_globs)]
    else:
        return None
    return Subset(tuple(chosen), len(eligible)) if len(chosen) < len(eligible) else None


def run_subset(
    session: Session, record: store.RunRecord, loaded: LoadedGuideline, target: str
) -> tuple[store.StoredSelection | None, Subset | None]:
    """The run's recorded selection, and what it selected of the guideline and target shown."""
    selection = store.selection_of(session, record)
    if selection is None:
        return None, None
    selected_from = catalog.resolve_guideline(session, selection.guideline, selection.target)
    return selection, selected_subset(selection, selected_from, loaded, target)


def run_verdicts(
    session: Session,
    record: store.RunRecord,
    report: RunReport,
    compliance: ComplianceReport,
    loaded: LoadedGuideline,
    *,
    subset: Subset | None,
    full_evidence: bool,
) -> Verdicts:
    """Both verdicts of ``record``, judged on ``report`` (what the viewer may see, already
    evaluated as ``compliance``; ``full_evidence``: it holds every stored outcome) with the stored
    outcomes deciding the exemptions."""
    full: RunReport | None = None
    if full_evidence:
        full = report
    elif record.has_extended:
        try:
            full = store.full_report(session, record)
        except InteropModelError:  # NOTE: a stored document the model no longer reads gets no exemption
            full = None
    provenance = full.provenance if full is not None else None
    exemptions = applicable_exemptions(
        bundled_exemptions(),
        provenance.tempest_version if provenance else None,
        provenance.environments if provenance else (),
    )
    outcomes = None
    if exemptions and full is not None and full is not report:
        outcomes = evaluate(loaded.guideline, compliance.target, full)
    return judge_verdicts(
        compliance, exemptions, selected=subset.chosen if subset is not None else None, outcomes=outcomes
    )
