"""The `plyr` command: serve, worker, ingest, devnet, check, db, moderation.

`plyr.cli.root` assembles it from the modules here; `main` is the console script.
"""

from plyr.cli.root import app, main

__all__ = ["app", "main"]
