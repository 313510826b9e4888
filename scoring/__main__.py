"""``python -m scoring``: the same as ``tcup-score``."""

from scoring.cli import main

main()
