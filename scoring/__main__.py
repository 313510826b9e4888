"""``python -m scoring`` and the ``tcup-score`` console script."""

from __future__ import annotations

import sys

OWN = {"scoring", "interop_model"}


def main() -> None:
    """Run ``tcup-score``; without the scoring extra, say in one line how to install it (no traceback)."""
    try:
        from scoring.cli import main as run
    except ModuleNotFoundError as exc:
        if (exc.name or "").partition(".")[0] in OWN:
            raise
        missing = f"no module {exc.name!r}"
        sys.exit(f"tcup-score: the scoring engine is not installed ({missing}); run: pip install 'tcup[scoring]'")
    run()


if __name__ == "__main__":
    main()
