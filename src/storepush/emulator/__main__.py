"""`python -m storepush.emulator`: the same as `storepush emulator` (see `_cli.py`)."""

from ._cli import main

__all__ = ["main"]

if __name__ == "__main__":
    raise SystemExit(main())
