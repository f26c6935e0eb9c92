"""``python -m edftools`` runs the command-line interface."""

from edftools.cli import main

if __name__ == "__main__":
    main()
