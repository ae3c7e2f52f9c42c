"""The `plyr` command as its own process against a test's running plyr (its database and
data folder), as an operator runs it from the shell."""

from __future__ import annotations

import os
from pathlib import Path

from tests.support.cli import run_plyr_blocking
from tests.support.plyr_server import PlyrServer


def run_cli(plyr: PlyrServer, *args: str) -> tuple[int, str]:
    env = os.environ | {
        "PLYR_DATABASE_URL": plyr.settings.effective_database_url,
        "PLYR_DATA_DIR": str(plyr.settings.data_dir),
        "PLYR_SECRET_KEY": "test-secret-key-not-for-production",
        "PLYR_PUBLIC_URL": plyr.settings.public_url,
    }
    cwd = Path(plyr.settings.data_dir).parent
    run = run_plyr_blocking(*args, env=env, cwd=cwd, seconds=120, script=True, split=True)
    return run.returncode, run.output
