"""Who may see or change a run: RefStack's roles (REFERENCE §1.4), strongest first.

* ``foundation``: a member of the Foundation group;
* ``owner``: the user whose registered key signed the upload;
* ``user``: anyone, when the run is unsigned or shared.

No role at all is a 401; a role too weak for the action is a 403.
"""

from __future__ import annotations

from collections.abc import Mapping

from webapp.auth import Caller
from webapp.errors import ApiError
from webapp.store import PUBLIC_META_KEYS, RunRecord

FOUNDATION = "foundation"
OWNER = "owner"
USER = "user"
_RANK = {USER: 0, OWNER: 1, FOUNDATION: 2}


def role_for(caller: Caller, run: RunRecord) -> str | None:
    """The caller's role for ``run``, or None."""
    if caller.foundation:
        return FOUNDATION
    if caller.user_id is not None and caller.user_id == run.owner_id:
        return OWNER
    if run.public:
        return USER
    return None


def require_role(caller: Caller, run: RunRecord, level: str) -> str:
    """The caller's role, when at least ``level``; else 401 (no role) or 403 (too weak)."""
    role = role_for(caller, run)
    if role is None:
        raise ApiError(401, "You are not allowed to see this test run: it is private to its owner")
    if _RANK[role] < _RANK[level]:
        raise ApiError(403, "Only the owner of this test run or the Foundation may do this")
    return role


def privileged(role: str | None) -> bool:
    """Owner or Foundation: sees cpid, every meta key and private details."""
    return role in (OWNER, FOUNDATION)


def visible_meta(meta: Mapping[str, str], role: str | None) -> dict[str, str]:
    """The meta keys ``role`` may read: all of them for owner/Foundation, else shared/guideline/target."""
    if privileged(role):
        return dict(meta)
    return {k: v for k, v in meta.items() if k in PUBLIC_META_KEYS}


__all__ = ["FOUNDATION", "OWNER", "USER", "privileged", "require_role", "role_for", "visible_meta"]
