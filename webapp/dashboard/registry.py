"""The OpenStack Powered program's pages: the public registry, vendors, products, the
Foundation's review queue, and each product's badge.

Every change is a plain form posted to this module (no JavaScript), checked with the same
rules as the API (who administers a vendor, the registration states) and answered with a
redirect back to the page. The sign-in cookie is SameSite=Strict, so another site cannot
post these forms on a user's behalf.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass

from flask import Response, abort, redirect, render_template, request, url_for
from werkzeug.wrappers import Response as BaseResponse

from interop_model.wire import unprintable
from webapp.api.registry import MULTILINE
from webapp.api.requests import public_link, unstorable
from webapp.dashboard import badges
from webapp.dashboard.pages import arg, bp, check_form, page_caller
from webapp.errors import ApiError
from webapp.sessions import session
from webapp.store import products, vendors
from webapp.store import runs as store
from webapp.store.accounts import Account

PER_PAGE = 50
PRODUCT_TYPES = {0: "Distro", 1: "Public cloud", 2: "Hosted private cloud"}
VENDOR_TYPES = {0: "Foundation", 1: "private", 2: "pending", 3: "official"}
BADGE_MAX_AGE = 300


def _account() -> Account:
    account = page_caller().account
    if account is None:
        raise ApiError(401, "Sign in first")
    return account


def _administers(vendor_id: str) -> bool:
    caller = page_caller()
    return caller.foundation or (caller.account is not None and vendor_id in caller.account.vendor_ids)


def _form(name: str, limit: int = 255) -> str:
    """A form field, stripped and cut to ``limit`` characters; 400 when it cannot be stored, or
    holds a control character where one line of text is asked for."""
    value = request.form.get(name, "").strip()[:limit]
    if why := unstorable(value):
        raise ApiError(400, f"The field {name!r} {why}")
    if name not in MULTILINE and (found := unprintable(value)):
        raise ApiError(400, f"The field {name!r} holds {found}")
    return value


# -- the public registry -------------------------------------------------------------------


@bp.get("/registry")
def registry() -> str:
    """Every public product with its latest verified guideline and target, filterable."""
    kind, guideline = arg("type", 2), arg("guideline", 64).removesuffix(".json")
    product_type = int(kind) if kind in ("0", "1", "2") else None
    entries, guidelines = products.registry_selection(session(), product_type=product_type, guideline=guideline)
    total_pages = max(1, math.ceil(len(entries) / PER_PAGE))
    try:
        page = min(max(1, int(arg("page", 9) or 1)), total_pages)
    except ValueError:
        page = 1
    shown = entries[(page - 1) * PER_PAGE : page * PER_PAGE]
    return render_template(
        "dashboard/registry.html",
        entries=shown,
        total=len(entries),
        page=page,
        total_pages=total_pages,
        kind=kind,
        guideline=guideline,
        guidelines=guidelines,
        product_types=PRODUCT_TYPES,
    )


# -- badges --------------------------------------------------------------------------------


@bp.get("/products/<product_id>/badge.svg")
def product_badge(product_id: str) -> BaseResponse:
    """The product's badge from its latest verified run; cacheable (an ETag and a max-age)."""
    entry = products.latest_verified(session(), product_id)
    if entry is None:  # unknown or not public: no difference is shown
        abort(404)
    label, value = badges.badge_text(entry.guideline, entry.target)
    svg = badges.badge_svg(label, value, verified=entry.run_id is not None)
    etag = hashlib.sha256(svg.encode()).hexdigest()[:32]
    response = Response(svg, mimetype="image/svg+xml")
    response.set_etag(etag)
    response.headers["Cache-Control"] = f"public, max-age={BADGE_MAX_AGE}"
    return response.make_conditional(request)


# -- vendors -------------------------------------------------------------------------------


@bp.get("/vendors")
def vendor_list() -> str:
    """Official vendors, and the caller's own (every vendor for the Foundation)."""
    caller = page_caller()
    if caller.foundation:
        shown = vendors.list_vendors(session())
    else:
        found = {v.id: v for v in vendors.list_vendors(session(), types=vendors.PUBLIC_TYPES)}
        if caller.user_id is not None:
            found.update({v.id: v for v in vendors.vendors_of_user(session(), caller.user_id)})
        shown = sorted(found.values(), key=lambda v: (v.name.lower(), v.id))
    return render_template("dashboard/vendors.html", vendors=shown, vendor_types=VENDOR_TYPES)


@bp.post("/vendors")
def vendor_create() -> BaseResponse:
    """Create a private vendor administered by the caller."""
    check_form()
    account = _account()
    name = _form("name", 80)
    if not name:
        raise ApiError(400, "name should not be empty")
    vendor = vendors.create_vendor(
        session(), name=name, description=_form("description", 2000) or None, creator_id=account.id
    )
    return redirect(url_for("dashboard.vendor_page", vendor_id=vendor.id), 303)


@bp.get("/vendors/<vendor_id>")
def vendor_page(vendor_id: str) -> str:
    """A vendor: its state, products and (for its admins) admins and forms."""
    vendor = vendors.get_vendor(session(), vendor_id)
    admin = _administers(vendor.id)
    if not admin and vendor.type not in vendors.PUBLIC_TYPES:
        raise ApiError(403, "This vendor is private to its admins and the Foundation")
    listed = products.list_products(session(), everything=admin, organization_id=vendor.id)
    return render_template(
        "dashboard/vendor.html",
        vendor=vendor,
        admin=admin,
        members=vendors.list_members(session(), vendor) if admin else [],
        products=listed,
        reason=vendors.decline_reason(vendor),
        vendor_types=VENDOR_TYPES,
        product_types=PRODUCT_TYPES,
    )


@bp.post("/vendors/<vendor_id>/action")
def vendor_action(vendor_id: str) -> BaseResponse:
    """Register, cancel (the vendor's admins), approve or deny (the Foundation)."""
    check_form()
    account = _account()
    vendor = vendors.get_vendor(session(), vendor_id)
    action = _form("action", 16)
    caller = page_caller()
    if not vendors.may_act(vendor, action, admin=vendor.id in account.vendor_ids, foundation=caller.foundation):
        raise ApiError(403, f"You may not {action or 'do that to'} this vendor")
    reason = _form("reason", 2000) if action == "deny" else ""
    if action == "deny" and not reason:
        raise ApiError(400, "The decline reason can not be empty")
    vendors.act(session(), vendor, action, reason)
    return redirect(
        request.form.get("back") == "review"
        and url_for("dashboard.review")
        or url_for("dashboard.vendor_page", vendor_id=vendor.id),
        303,
    )


@bp.post("/vendors/<vendor_id>/users")
def vendor_add_user(vendor_id: str) -> BaseResponse:
    """Make a user (by openid) an admin of the vendor."""
    check_form()
    _account()
    vendor = vendors.get_vendor(session(), vendor_id)
    if not _administers(vendor.id):
        raise ApiError(403, "Only the vendor's admins and the Foundation may add admins")
    vendors.add_member(session(), vendor, _form("openid"))
    return redirect(url_for("dashboard.vendor_page", vendor_id=vendor.id), 303)


@bp.post("/vendors/<vendor_id>/products")
def vendor_add_product(vendor_id: str) -> BaseResponse:
    """Create a private product of the vendor."""
    check_form()
    account = _account()
    vendor = vendors.get_vendor(session(), vendor_id)
    if not _administers(vendor.id):
        raise ApiError(403, "Only the vendor's admins and the Foundation may add products")
    name = _form("name", 80)
    try:
        product_type = int(_form("product_type", 2))
    except ValueError:
        product_type = -1
    if not name or product_type not in products.PRODUCT_TYPES:
        raise ApiError(400, "A product needs a name and a type (distro, public cloud or hosted private cloud)")
    product = products.create_product(
        session(),
        name=name,
        description=_form("description", 2000) or None,
        product_type=product_type,
        organization_id=vendor.id,
        creator_id=account.id,
    )
    return redirect(url_for("dashboard.product_page", product_id=product.id), 303)


# -- products ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class VersionRuns:
    """A version and the runs attached to it that the caller may see."""

    version: products.VersionRecord
    runs: list[products.AttachedRun]


@bp.get("/products/<product_id>")
def product_page(product_id: str) -> str:
    """A product: its versions with their runs, its badge and (for admins) forms."""
    product = products.get_product(session(), product_id)
    admin = _administers(product.organization_id)
    if not admin and not product.public:
        raise ApiError(403, "This product is private to its vendor's admins and the Foundation")
    vendor = vendors.get_vendor(session(), product.organization_id)
    attached = products.product_runs(session(), product.id, public_only=not admin)
    versions = [
        VersionRuns(v, [r for r in attached if r.version_id == v.id])
        for v in products.list_versions(session(), product.id)
    ]
    entry = products.latest_verified(session(), product.id)
    return render_template(
        "dashboard/product.html",
        product=product,
        vendor=vendor,
        admin=admin,
        versions=versions,
        entry=entry,
        badge_url=public_link(url_for("dashboard.product_badge", product_id=product.id)),
        can_publish=vendor.type in vendors.PUBLIC_TYPES,
        product_types=PRODUCT_TYPES,
    )


@bp.post("/products/<product_id>/versions")
def product_add_version(product_id: str) -> BaseResponse:
    """Add a version (with an optional cpid)."""
    check_form()
    account = _account()
    product = products.get_product(session(), product_id)
    if not _administers(product.organization_id):
        raise ApiError(403, "Only the vendor's admins and the Foundation may add versions")
    version = _form("version", 36)
    if not version:
        raise ApiError(400, "version should not be empty")
    products.create_version(session(), product.id, version=version, cpid=_form("cpid") or None, creator_id=account.id)
    return redirect(url_for("dashboard.product_page", product_id=product.id), 303)


@bp.post("/products/<product_id>/public")
def product_publish(product_id: str) -> BaseResponse:
    """Make the product public (official vendors only) or private again."""
    check_form()
    _account()
    product = products.get_product(session(), product_id)
    if not _administers(product.organization_id):
        raise ApiError(403, "Only the vendor's admins and the Foundation may publish a product")
    public = _form("public", 5) == "true"
    vendor = vendors.get_vendor(session(), product.organization_id)
    if public and vendor.type not in vendors.PUBLIC_TYPES:
        raise ApiError(403, "Only products of official vendors can be public: register the vendor first")
    products.update_product(session(), product.id, {"public": public})
    return redirect(url_for("dashboard.product_page", product_id=product.id), 303)


# -- the Foundation's review queue ---------------------------------------------------------


@bp.get("/review")
def review() -> str:
    """Pending vendors, and runs attached to products but not yet verified."""
    if not page_caller().foundation:
        raise ApiError(403 if page_caller().account else 401, "The review queue is the Foundation's")
    return render_template(
        "dashboard/review.html",
        pending=vendors.list_vendors(session(), types=(vendors.PENDING,)),
        runs=products.unverified_runs(session()),
    )


@bp.post("/review/runs/<run_id>/verify")
def review_verify(run_id: str) -> BaseResponse:
    """Mark an attached run verified (it needs the shared, guideline and target meta)."""
    check_form()
    if not page_caller().foundation:
        raise ApiError(403, "Only the Foundation verifies runs")
    record = store.get_run(session(), run_id)
    if record is None:
        raise ApiError(404, f"Test result {run_id} not found")
    if not all(record.meta.get(k) for k in ("shared", "guideline", "target")):
        raise ApiError(
            403,
            "In order to mark a test verified, the test must be shared and have been associated to a guideline "
            "and target program.",
        )
    store.set_verification_status(session(), run_id, 1)
    products.registry_changed(session())
    return redirect(url_for("dashboard.review"), 303)


__all__ = ["PRODUCT_TYPES", "VENDOR_TYPES"]
