"""``python -m edftools`` runs the command-line interface.

A ``sweep`` starts its workers' server first, before click is imported
(:func:`edftools.train.worker_server.start_for_command`).
"""

import sys

if __name__ == "__main__":
    from edftools.train.worker_server import start_for_command

    start_for_command(sys.argv[1:])
    from edftools.cli import main

    main()
