"""Checks that the configured database, storage and data folder are usable.

Each failure is one line that says what is wrong and how to fix it; `plyr check` prints
them, `plyr serve` refuses to start on them.
"""

from __future__ import annotations

import asyncio
import secrets
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.exc import ArgumentError, DBAPIError, OperationalError

from plyr.config import Settings, mask_url_password
from plyr.db import migrate
from plyr.runtime import Runtime
from plyr.storage import StorageError

DB_TIMEOUT_SECONDS = 10


@dataclass(frozen=True)
class CheckResult:
    name: str
    ok: bool
    detail: str


def check_data_dir(settings: Settings) -> CheckResult:
    path = settings.data_dir
    try:
        settings.ensure_data_dir()
        probe = path / f".write-check-{secrets.token_hex(4)}"
        probe.write_bytes(b"ok")
        probe.unlink()
    except OSError as exc:
        return CheckResult(
            "data folder",
            False,
            f"data folder {path.resolve()} is not writable ({exc.strerror or exc}); "
            "fix its permissions or point PLYR_DATA_DIR elsewhere",
        )
    return CheckResult("data folder", True, str(path.resolve()))


def _describe_db_error(url: str, exc: BaseException) -> str:
    shown = mask_url_password(url)
    reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0] if str(exc) else ""
    if isinstance(exc, TimeoutError):
        reason = f"no answer within {DB_TIMEOUT_SECONDS}s"
    elif isinstance(exc, OSError):
        reason = exc.strerror or str(exc)
    return (
        f"cannot connect to the database {shown} ({reason or type(exc).__name__}); "
        "check PLYR_DATABASE_URL"
    )


async def check_database(runtime: Runtime, *, require_migrated: bool) -> CheckResult:
    url = runtime.settings.effective_database_url
    try:
        async with asyncio.timeout(DB_TIMEOUT_SECONDS):
            async with runtime.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
            current = await migrate.current_revision(runtime.engine)
    except (OperationalError, DBAPIError, OSError, TimeoutError, ArgumentError) as exc:
        return CheckResult("database", False, _describe_db_error(url, exc))
    head = migrate.head_revision()
    shown = mask_url_password(url)
    if current != head:
        detail = (
            f"{shown}: schema at {current or 'nothing'}, code expects {head}; run `plyr db upgrade`"
        )
        return CheckResult("database", not require_migrated, detail)
    return CheckResult("database", True, f"{shown} (schema {current})")


async def check_storage(runtime: Runtime) -> CheckResult:
    try:
        await runtime.storage.check()
    except StorageError as exc:
        return CheckResult("storage", False, str(exc))
    except Exception as exc:  # an unexpected backend error still gets one line
        return CheckResult("storage", False, f"storage check failed: {type(exc).__name__}: {exc}")
    return CheckResult("storage", True, runtime.storage.name)


async def run_checks(runtime: Runtime, *, require_migrated: bool = True) -> list[CheckResult]:
    data_dir = check_data_dir(runtime.settings)
    if not data_dir.ok:
        return [data_dir]
    return [
        data_dir,
        await check_database(runtime, require_migrated=require_migrated),
        await check_storage(runtime),
    ]
