"""Start a Nova daemon the devcloud's way: ``python -m tcup_nova_launcher compute|conductor|scheduler ARGS``.

Runs in the devcloud's services venv, never in tcup. Two things differ from Nova's own scripts:

* compute: Nova loads its virt driver as ``nova.virt.<compute_driver>``, so the devcloud's
  driver (``tcup_nova_driver``, outside Nova's package) is registered under that name first;
* conductor and scheduler: they run in one process. With one worker, Nova's scripts still start
  a master process that forks the worker (about 130 MiB each); like nova-compute, they are served
  here without forking.

Nova's start-up module is imported first, as its scripts do, so that its threading set-up
precedes every other Nova import.
"""

from __future__ import annotations

import importlib
import sys
from typing import Any


def main() -> None:
    """Run the Nova daemon named by the first argument with the remaining arguments."""
    daemon = sys.argv.pop(1)
    if daemon not in ("compute", "conductor", "scheduler"):
        raise SystemExit(f"unknown Nova daemon {daemon!r}")
    command = importlib.import_module(f"nova.cmd.{daemon}")  # first, as Nova's scripts do
    if daemon == "compute":
        sys.modules["nova.virt.tcup_nova_driver"] = importlib.import_module("tcup_nova_driver")
    else:
        from nova import service

        serve = service.serve

        def serve_in_process(server: Any, workers: int | None = None, no_fork: bool = False) -> None:
            serve(server, workers=1, no_fork=True)

        service.serve = serve_in_process
    sys.exit(command.main())


if __name__ == "__main__":
    main()
