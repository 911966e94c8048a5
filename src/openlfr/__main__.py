"""``python -m openlfr`` runs the command-line interface."""

from openlfr.cli import main

main()
