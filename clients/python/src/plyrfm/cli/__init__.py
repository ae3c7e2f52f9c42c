"""The `plyrfm` command (typer + rich) over the SDK: `main` is the console script.

The commands are in this package by group (account, tracks, likes, upload, transfers,
playlists) and assembled in `app.py`; `errors.py` turns every failure into one line on
stderr and an exit code. The modules import the SDK inside the commands, so `plyrfm --help`
costs typer, rich and whatever the `plyrfm` package's own `__init__` imports.
"""

from __future__ import annotations

import sys


def main() -> None:
    """Run `plyrfm` with sys.argv; exit with the documented code, never a traceback."""
    from plyrfm.cli.errors import fail

    try:
        from plyrfm.cli.app import run

        run()
        code = 0
    except KeyboardInterrupt as interrupted:
        code = fail(interrupted)
    except Exception as error:  # the one place every failure becomes a line
        code = fail(error)
    sys.exit(code)
