"""``python -m tcup`` runs the tcup command line."""

from tcup.cli import main

if __name__ == "__main__":
    main()
