"""What changed between two guidelines for a target: the guideline comparison page's model."""

from __future__ import annotations

from dataclasses import dataclass, field

from interop_model import STATUSES, Guideline, Status


@dataclass(frozen=True, slots=True)
class DiffRow:
    """How one capability changed between two guidelines for a target."""

    capability: str
    change: str  # one of DIFF_KINDS
    old: str  # status before ("" when absent)
    new: str  # status after ("" when absent)
    tests_added: list[str] = field(default_factory=list)
    tests_removed: list[str] = field(default_factory=list)
    flags_added: list[str] = field(default_factory=list)


DIFF_KINDS = ("added", "promoted", "deprecated", "removed", "demoted", "dropped", "tests changed")


def diff_guidelines(old: Guideline, new: Guideline, target: str) -> list[DiffRow]:
    """Capabilities added, promoted (towards required), deprecated, removed (listed as removed, or
    gone without having been removed first), demoted, and dropped (removed before, now gone)
    between ``old`` and ``new`` for ``target``; also unchanged statuses whose tests changed.

    Raises UnknownTarget when either guideline lacks the target.
    """
    before, after = old.target_statuses(target), new.target_statuses(target)
    rank = {s: i for i, s in enumerate(STATUSES)}
    rows = []
    for name in sorted(set(before) | set(after)):
        was, now = before.get(name), after.get(name)
        if was is None:
            change = "removed" if now is Status.REMOVED else "added"
        elif now is None:
            change = "dropped" if was is Status.REMOVED else "removed"
        elif now is Status.REMOVED and was is not Status.REMOVED:
            change = "removed"
        elif now is Status.DEPRECATED and was is not Status.DEPRECATED:
            change = "deprecated"
        elif now is not None and rank[now] < rank[was]:
            change = "promoted"
        elif now is not None and rank[now] > rank[was]:
            change = "demoted"
        else:
            change = ""
        old_tests = {e.name: e for e in old.capabilities[name].tests} if name in old.capabilities else {}
        new_tests = {e.name: e for e in new.capabilities[name].tests} if name in new.capabilities else {}
        added = sorted(set(new_tests) - set(old_tests)) if old_tests else []
        removed = sorted(set(old_tests) - set(new_tests)) if new_tests else []
        flags = sorted(n for n, e in new_tests.items() if e.flagged and not (n in old_tests and old_tests[n].flagged))
        if not change and (added or removed or flags):
            change = "tests changed"
        if change:
            rows.append(
                DiffRow(name, change, was.value if was else "", now.value if now else "", added, removed, flags)
            )
    order = {k: i for i, k in enumerate(DIFF_KINDS)}
    return sorted(rows, key=lambda r: (order[r.change], r.capability))


__all__ = ["DIFF_KINDS", "DiffRow", "diff_guidelines"]
