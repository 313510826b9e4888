"""SQLAlchemy 2 typed mappings: a persistence detail that never leaves :mod:`webapp.store`.

Scale notes (100,000 runs of about 1,500 passed tests each):

* ``runs`` is narrow (no test data) so listing, counting and filtering scan small
  rows; the indexes follow the list endpoint's filters and its newest-first order.
* A run's passed tests are not rows: :class:`TestCase` holds each distinct
  (name, idempotent id) once, and :class:`RunTests` holds the run's test-case ids as
  one compressed, delta-encoded blob (about 2 kB per run instead of 1,500 rows).
* The full, private extended document (failures, reasons, durations) lives in
  :class:`ExtendedRun`, compressed, read only for its owner and the Foundation.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base with a naming convention, so migrations name constraints alike."""

    metadata = MetaData(naming_convention=NAMING)


class User(Base):
    """A person who registers keys and calls the API with a token."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    openid: Mapped[str] = mapped_column(String(255), unique=True)
    fullname: Mapped[str] = mapped_column(String(255), default="")
    email: Mapped[str] = mapped_column(String(255), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime)


class Group(Base):
    """A group of users; the ``foundation`` kind makes its members the Foundation."""

    __tablename__ = "groups"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(255), unique=True)
    kind: Mapped[str] = mapped_column(String(32))


class GroupMember(Base):
    """Membership of a user in a group."""

    __tablename__ = "group_members"

    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)

    # a user's groups (the Foundation, the vendors they administer), read at every authenticated request
    __table_args__ = (Index("ix_group_members_user", "user_id"),)


class ApiToken(Base):
    """An API token: only its SHA-256 is stored; the token itself is shown once."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    label: Mapped[str] = mapped_column(String(255), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime)


class BrowserSession(Base):
    """A dashboard sign-in: the browser's cookie holds a random session id, of which only the
    SHA-256 is stored; signing out deletes the row, so a copied cookie stops working."""

    __tablename__ = "browser_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    session_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    expires_at: Mapped[datetime] = mapped_column(DateTime, index=True)


class PubKey(Base):
    """A registered public key; uploads it signs belong to its user."""

    __tablename__ = "pubkeys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    format: Mapped[str] = mapped_column(String(32))
    pubkey: Mapped[str] = mapped_column(Text)  # the base64 text, as RefStack stored it
    comment: Mapped[str] = mapped_column(String(255), default="")
    md5_hash: Mapped[str] = mapped_column(String(32), index=True)
    key_sha256: Mapped[str] = mapped_column(String(64), unique=True)  # makes duplicates race-free
    created_at: Mapped[datetime] = mapped_column(DateTime)


class Run(Base):
    """One uploaded test run (RefStack's "test"), without its test data."""

    __tablename__ = "runs"

    pk: Mapped[int] = mapped_column(Integer, primary_key=True)
    id: Mapped[str] = mapped_column(String(36), unique=True)  # the public uuid4
    cpid: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(DateTime)  # UTC, whole seconds, as RefStack
    duration_seconds: Mapped[int] = mapped_column(Integer)
    verification_status: Mapped[int] = mapped_column(SmallInteger, default=0)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    pubkey_id: Mapped[int | None] = mapped_column(ForeignKey("pubkeys.id", ondelete="SET NULL"))
    signed: Mapped[bool] = mapped_column(Boolean, default=False)
    shared: Mapped[bool] = mapped_column(Boolean, default=False)
    public: Mapped[bool] = mapped_column(Boolean, default=True)  # unsigned, or signed and shared
    meta: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    body_sha256: Mapped[str | None] = mapped_column(String(64))
    test_count: Mapped[int] = mapped_column(Integer, default=0)
    has_extended: Mapped[bool] = mapped_column(Boolean, default=False)
    # meta ``guideline`` and ``target`` without a ``.json`` suffix (None when unset), copied out
    # of ``meta`` so that the list's filters on them use an index
    meta_guideline: Mapped[str | None] = mapped_column(String(255))
    meta_target: Mapped[str | None] = mapped_column(String(255))
    # The product version the run is attached to, and that product's vendor (a product never
    # changes vendor): the vendor's admins own the run too, without a join on every read. Neither
    # can be deleted while runs point at it (the default NO ACTION: SQLite cannot reflect an
    # ON DELETE clause on a column added by ALTER TABLE, so none is declared).
    product_version_id: Mapped[str | None] = mapped_column(ForeignKey("product_versions.id"), default=None)
    vendor_id: Mapped[str | None] = mapped_column(ForeignKey("organizations.id"), default=None)

    __table_args__ = (
        Index("ix_runs_created", "created_at", "pk"),
        Index("ix_runs_product_version_created", "product_version_id", "created_at", "pk"),
        Index("ix_runs_public_created", "public", "created_at", "pk"),
        Index("ix_runs_cpid_created", "cpid", "created_at", "pk"),
        Index("ix_runs_owner_created", "owner_id", "created_at", "pk"),
        Index("ix_runs_public_cpid", "public", "cpid", "created_at", "pk"),  # each cloud's latest public run
        # the list's filters, newest first: by guideline, by target, by verification
        Index("ix_runs_public_guideline", "public", "meta_guideline", "created_at", "pk"),
        Index("ix_runs_public_target", "public", "meta_target", "created_at", "pk"),
        Index("ix_runs_public_verified", "public", "verification_status", "created_at", "pk"),
        # an identical signed upload is recognised (anonymous ones have no key: NULLs never collide)
        UniqueConstraint("pubkey_id", "body_sha256", name="uq_runs_pubkey_body"),
    )


class UploadKey(Base):
    """An upload's idempotency key (the ``Idempotency-Key`` header, scoped to the body and the
    signer, hashed): the first run stored under it is the answer to every repeat. The unique
    key makes that exact across workers and replicas; deleting the run frees the key."""

    __tablename__ = "upload_keys"

    scope_sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    run_pk: Mapped[int] = mapped_column(ForeignKey("runs.pk", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime)


class RunCount(Base):
    """Maintained row counts (``public``: runs the default list shows), so a page never counts 100,000 rows."""

    __tablename__ = "run_counts"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    count: Mapped[int] = mapped_column(BigInteger, default=0)


class TestCase(Base):
    """A distinct (test name, idempotent id) pair, stored once for every run that passed it."""

    __tablename__ = "test_cases"
    __test__ = False  # not a pytest class

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key_sha1: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(Text)
    uuid: Mapped[str | None] = mapped_column(String(36))


class RunTests(Base):
    """A run's passed tests: packed test-case ids (see :mod:`webapp.testsets`)."""

    __tablename__ = "run_tests"

    run_pk: Mapped[int] = mapped_column(ForeignKey("runs.pk", ondelete="CASCADE"), primary_key=True)
    packed: Mapped[bytes] = mapped_column(LargeBinary)


class ExtendedRun(Base):
    """The private extended document of a run (every outcome, reasons, provenance)."""

    __tablename__ = "extended_runs"

    run_pk: Mapped[int] = mapped_column(ForeignKey("runs.pk", ondelete="CASCADE"), primary_key=True)
    document: Mapped[bytes] = mapped_column(LargeBinary)  # zlib-compressed JSON
    uploaded_at: Mapped[datetime] = mapped_column(DateTime)


class GuidelineFile(Base):
    """A guideline file imported by ``tcup-server import-guidelines``, kept verbatim."""

    __tablename__ = "guidelines"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    file: Mapped[str] = mapped_column(String(255), unique=True)  # "2020.06.json", "dns.2020.06.json"
    family: Mapped[str] = mapped_column(String(64))  # "powered" or the add-on name
    name: Mapped[str] = mapped_column(String(255))  # "2020.06.json"
    guideline_id: Mapped[str] = mapped_column(String(255))
    schema: Mapped[str] = mapped_column(String(16))
    status: Mapped[str | None] = mapped_column(String(32))
    content: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(Text, default="")
    imported_at: Mapped[datetime] = mapped_column(DateTime)


class WorksheetFile(Base):
    """A scoring worksheet (``scoring*.txt``) imported next to the guidelines, kept verbatim."""

    __tablename__ = "worksheets"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(255), unique=True)  # "scoring.txt", "scoring_dns.txt"
    content: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64))
    imported_at: Mapped[datetime] = mapped_column(DateTime)


class Organization(Base):
    """A vendor (RefStack's "organization"): the Foundation (type 0), private, pending or official.

    Its admins are the members of its group.
    """

    __tablename__ = "organizations"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)  # uuid4
    type: Mapped[int] = mapped_column(SmallInteger)
    name: Mapped[str] = mapped_column(String(80))
    description: Mapped[str | None] = mapped_column(Text, default=None)
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id", ondelete="RESTRICT"), unique=True)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    properties: Mapped[str | None] = mapped_column(Text, default=None)  # JSON text, as RefStack kept it
    created_at: Mapped[datetime] = mapped_column(DateTime)
    updated_at: Mapped[datetime | None] = mapped_column(DateTime, default=None)

    __table_args__ = (Index("ix_organizations_type_created", "type", "created_at"),)


class Product(Base):
    """A product of a vendor: a distro (0), a public cloud (1) or a hosted private cloud (2)."""

    __tablename__ = "products"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str] = mapped_column(String(80))
    description: Mapped[str | None] = mapped_column(Text, default=None)
    product_ref_id: Mapped[str | None] = mapped_column(String(255), default=None)
    organization_id: Mapped[str] = mapped_column(ForeignKey("organizations.id", ondelete="RESTRICT"), index=True)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    public: Mapped[bool] = mapped_column(Boolean, default=False)
    properties: Mapped[str | None] = mapped_column(Text, default=None)
    type: Mapped[int] = mapped_column(SmallInteger)  # 0 cloud, 1 software (derived from product_type)
    product_type: Mapped[int] = mapped_column(SmallInteger)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    updated_at: Mapped[datetime | None] = mapped_column(DateTime, default=None)

    __table_args__ = (Index("ix_products_public_name", "public", "name"),)


class ProductVersion(Base):
    """A version of a product, with the cpid of the cloud it runs as; each product has a default one."""

    __tablename__ = "product_versions"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    product_id: Mapped[str] = mapped_column(ForeignKey("products.id", ondelete="CASCADE"), index=True)
    version: Mapped[str | None] = mapped_column(String(36), default=None)
    cpid: Mapped[str | None] = mapped_column(String(255), default=None, index=True)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(DateTime)

    __table_args__ = (UniqueConstraint("product_id", "version", name="uq_product_versions_product_version"),)


__all__ = [
    "ApiToken",
    "Base",
    "ExtendedRun",
    "Group",
    "GroupMember",
    "GuidelineFile",
    "Organization",
    "Product",
    "ProductVersion",
    "PubKey",
    "Run",
    "RunCount",
    "RunTests",
    "TestCase",
    "User",
    "WorksheetFile",
]
