"""Start cinder-volume in one process: ``python -m tcup_cinder_launcher --config-file ...``.

Runs in the devcloud's services venv, never in tcup. Cinder's script starts a master process
that forks one child per back end (about 130 MiB each). The devcloud has one back end, so the
volume service is served in the script's own process instead, as Nova serves nova-compute.
"""

from __future__ import annotations

import importlib
import sys
from typing import Any


class _InProcessLauncher:
    """What cinder-volume asks of its launcher, serving its one service without forking."""

    def __init__(self) -> None:
        self._launcher: Any = None

    def launch_service(self, server: Any, workers: int = 1) -> None:
        from cinder.service import CONF
        from oslo_service import service

        if self._launcher is not None:
            raise SystemExit("the devcloud's cinder-volume serves one back end")
        self._launcher = service.launch(CONF, server, workers=1, restart_method="mutate", no_fork=True)

    def wait(self) -> None:
        self._launcher.wait()


def main() -> None:
    """Run cinder-volume with the in-process launcher."""
    volume = importlib.import_module("cinder.cmd.volume")  # first, as the cinder-volume script does
    setattr(importlib.import_module("cinder.service"), "process_launcher", _InProcessLauncher)  # noqa: B010
    sys.exit(volume.main())


if __name__ == "__main__":
    main()
