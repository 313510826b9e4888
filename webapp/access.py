"""Who may see or change a run, as HTTP: 401 for no role at all, 403 for a role too weak.

The roles and the rule that gives them are the store's (:mod:`webapp.store.runs`),
written once; this module only turns a missing or weak role into the API's answer.
"""

from __future__ import annotations

from webapp.errors import ApiError
from webapp.store.accounts import Caller
from webapp.store.runs import FOUNDATION, OWNER, USER, RunRecord, privileged, role_for, visible_meta

_RANK = {USER: 0, OWNER: 1, FOUNDATION: 2}


def require_role(caller: Caller, run: RunRecord, level: str) -> str:
    """The caller's role, when at least ``level``; else 401 (no role) or 403 (too weak)."""
    role = role_for(caller, run)
    if role is None:
        raise ApiError(401, "You are not allowed to see this test run: it is private to its owner")
    if _RANK[role] < _RANK[level]:
        raise ApiError(403, "Only the owner of this test run or the Foundation may do this")
    return role


__all__ = ["FOUNDATION", "OWNER", "USER", "privileged", "require_role", "role_for", "visible_meta"]
