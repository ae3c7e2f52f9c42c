"""The data folder holds sessions, encrypted OAuth tokens and the secret key: the folder is
0700 and the database with its -wal and -shm files 0600, on a new install and after an
older one (0755 folder, 0644 files) starts again."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from sqlalchemy import text

from plyr.config import Settings
from plyr.runtime import Runtime
from tests.support.cli import plyr_env, run_plyr


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


async def _write_and_check(data_dir: Path) -> None:
    settings = Settings(_env_file=None, data_dir=data_dir)  # type: ignore[call-arg]
    runtime = Runtime.open(settings)
    try:
        async with runtime.engine.begin() as conn:
            await conn.execute(text("CREATE TABLE IF NOT EXISTS probe (x INTEGER)"))
            await conn.execute(text("INSERT INTO probe VALUES (1)"))
        settings.secret_key_bytes()
        database = data_dir / "plyr.db"
        # While a connection is open the write-ahead log and its index exist beside it.
        for path in (database, Path(f"{database}-wal"), Path(f"{database}-shm")):
            assert path.exists(), path
            assert mode(path) == 0o600, (path, oct(mode(path)))
        assert mode(data_dir / "secret.key") == 0o600
        assert mode(data_dir) == 0o700
    finally:
        await runtime.close()


async def test_a_new_install_keeps_its_data_folder_private(tmp_path: Path) -> None:
    data_dir = tmp_path / "fresh" / "data"
    previous = os.umask(0o022)  # the usual umask: new files 0644, folders 0755
    try:
        run = await run_plyr("db", "upgrade", env=plyr_env(data_dir), cwd=tmp_path)
    finally:
        os.umask(previous)
    assert run.returncode == 0, run
    assert mode(data_dir) == 0o700
    assert mode(data_dir / "plyr.db") == 0o600
    await _write_and_check(data_dir)


async def test_an_older_install_is_made_private_when_it_starts(tmp_path: Path) -> None:
    data_dir = tmp_path / "old"
    data_dir.mkdir(mode=0o755)
    data_dir.chmod(0o755)
    database = data_dir / "plyr.db"
    for path in (database, Path(f"{database}-wal"), Path(f"{database}-shm")):
        path.touch()
        path.chmod(0o644)
    await _write_and_check(data_dir)
