"""The ``storepush`` command line (install the extra: ``pip install 'storepush[cli]'``)."""

from ._app import app, main

__all__ = ["app", "main"]
