"""`python -m storepush`: the command line."""

from .cli import main

main()
