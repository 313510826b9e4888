"""Start nova-compute with the devcloud's virt driver (``python -m tcup_nova_compute --config-file ...``).

Runs in the devcloud's services venv, never in tcup. Nova loads its virt driver as
``nova.virt.<compute_driver>``, so a driver outside Nova's package must be registered under that
name first. Nova's own start-up module is imported first, as ``nova-compute`` does, so that its
threading set-up precedes every other Nova import.
"""

from __future__ import annotations

import importlib
import sys


def main() -> None:
    """Register ``tcup_nova_driver`` as ``nova.virt.tcup_nova_driver``, then run nova-compute."""
    from nova.cmd import compute  # first, as the nova-compute script does

    sys.modules["nova.virt.tcup_nova_driver"] = importlib.import_module("tcup_nova_driver")
    sys.exit(compute.main())


if __name__ == "__main__":
    main()
