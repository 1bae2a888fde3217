"""``python -m detector`` runs the command line."""

from .cli import main

main()
