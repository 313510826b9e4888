"""Tempest's ``accounts.yaml`` built from clouds.yaml entries, each checked by logging in.

Every entry is a user of some project; a login says its roles, so the file lists the persona
Tempest should see (member, reader, ResellerAdmin...). An admin account is refused: interop runs
are non-admin. The file holds passwords, so it is written with mode 0600 and never printed.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import yaml

from tcup.credentials import TestAccount, resolve_credentials
from tcup.discovery import discover_cloud
from tcup.errors import CredentialsError
from tcup.tempest_config import persona_roles

__all__ = ["account_from_cloud", "accounts_from_clouds", "write_accounts_file"]


def account_from_cloud(name: str, *, config_file: str | Path | None = None, timeout: float = 20.0) -> TestAccount:
    """The Tempest account of clouds.yaml entry ``name``, after logging in with it.

    :raises CredentialsError: when the entry is incomplete, the login fails, or the user is an admin.
    """
    creds = resolve_credentials(cloud=name, config_file=config_file)
    facts = discover_cloud(creds, timeout=timeout, probe=False)
    if "admin" in facts.roles:
        raise CredentialsError(f"{creds.describe()} has the admin role; interop runs use non-admin accounts only")
    project = creds.project_name or facts.project_name
    if not creds.username or not project:
        raise CredentialsError(f"the cloud {name!r} needs a user and a project by name for Tempest's accounts file")
    return TestAccount(
        username=creds.username,
        password=creds.password,
        project_name=project,
        domain_name=creds.user_domain_name or "Default",
        roles=persona_roles(facts.roles) or ("member",),
    )


def accounts_from_clouds(
    names: Sequence[str], *, config_file: str | Path | None = None, timeout: float = 20.0
) -> list[TestAccount]:
    """One account per clouds.yaml entry, in order; the same user twice is an error."""
    accounts: list[TestAccount] = []
    for name in names:
        account = account_from_cloud(name, config_file=config_file, timeout=timeout)
        if any(a.key == account.key for a in accounts):
            raise CredentialsError(
                f"the cloud {name!r} is user {account.username} of project {account.project_name} again; "
                "each account must be another user"
            )
        accounts.append(account)
    return accounts


def write_accounts_file(path: Path, accounts: Sequence[TestAccount], *, overwrite: bool = False) -> None:
    """Write ``accounts`` as Tempest's accounts.yaml, readable by its owner only.

    :raises CredentialsError: when the file exists (and not ``overwrite``) or cannot be written.
    """
    text = "# Tempest accounts file written by `tcup accounts`; it holds passwords.\n" + yaml.safe_dump(
        [a.to_yaml_dict() for a in accounts], sort_keys=False
    )
    flags = os.O_WRONLY | os.O_CREAT | (os.O_TRUNC if overwrite else os.O_EXCL)
    try:
        fd = os.open(path, flags, 0o600)
    except FileExistsError:
        raise CredentialsError(f"{path} exists; choose another -o or pass --force to replace it") from None
    except OSError as exc:
        raise CredentialsError(f"cannot write {path}: {exc.strerror}") from None
    with os.fdopen(fd, "w") as out:
        os.fchmod(out.fileno(), 0o600)
        out.write(text)
