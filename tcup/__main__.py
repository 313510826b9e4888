"""``python -m tcup`` and the ``tcup`` console script."""

from __future__ import annotations

import sys

OWN = {"tcup", "interop_model"}


def main() -> None:
    """Run ``tcup``; when a dependency is missing, say in one line how to install it (no traceback)."""
    try:
        from tcup.cli import main as run
    except ModuleNotFoundError as exc:
        if (exc.name or "").partition(".")[0] in OWN:
            raise
        sys.exit(f"tcup: the runner's dependencies are not installed (no module {exc.name!r}); run: pip install tcup")
    run()


if __name__ == "__main__":
    main()
