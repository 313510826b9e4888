"""``python -m webapp`` and the ``tcup-server`` console script."""

from __future__ import annotations

import sys

OWN = {"webapp", "scoring", "interop_model"}


def main() -> None:
    """Run ``tcup-server``; without the server extra, say in one line how to install it (no traceback)."""
    try:
        from webapp.cli import main as run
    except ModuleNotFoundError as exc:
        if (exc.name or "").partition(".")[0] in OWN:
            raise
        missing = f"no module {exc.name!r}"
        sys.exit(f"tcup-server: the collector service is not installed ({missing}); run: pip install 'tcup[server]'")
    run()


if __name__ == "__main__":
    main()
