"""What every `plyr` command shares: one clear line on failure, settings, preflight, migrating."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, NoReturn

import typer
from pydantic import ValidationError

from plyr.config import Settings, get_settings

if TYPE_CHECKING:
    from plyr.runtime import Runtime


def die(message: str) -> NoReturn:
    typer.secho(f"plyr: {message}", fg=typer.colors.RED, err=True)
    raise typer.Exit(code=1)


def load_settings() -> Settings:
    try:
        return get_settings()
    except ValidationError as exc:
        problems = "; ".join(_describe_setting_error(err) for err in exc.errors())
        die(f"invalid configuration: {problems}")


def _describe_setting_error(err: Any) -> str:
    message = str(err["msg"]).removeprefix("Value error, ")
    if message[:2].istitle():  # "Input should be…" reads better mid-sentence in lowercase
        message = message[:1].lower() + message[1:]
    if not err["loc"]:
        return message
    return f"PLYR_{'_'.join(str(part) for part in err['loc']).upper()}: {message}"


async def preflight(settings: Settings, *, require_migrated: bool) -> None:
    from plyr.preflight import run_checks
    from plyr.runtime import Runtime

    runtime = Runtime.open(settings)
    try:
        results = await run_checks(runtime, require_migrated=require_migrated)
    finally:
        await runtime.close()
    for result in results:
        if not result.ok:
            die(result.detail)


def upgrade_database(settings: Settings) -> None:
    from plyr.db import migrate
    from plyr.preflight import check_data_dir

    data_dir = check_data_dir(settings)
    if not data_dir.ok:
        die(data_dir.detail)
    try:
        migrate.upgrade(settings.effective_database_url)
    except Exception as exc:
        from plyr.preflight import _describe_db_error

        die(_describe_db_error(settings.effective_database_url, exc))


def run_service(action: Callable[[Runtime], Awaitable[Any]]) -> Any:
    """Run one domain action against the configured database and storage; its ServiceError
    (a refusal the user can act on) is one line and exit code 1."""
    from plyr.errors import ServiceError
    from plyr.runtime import Runtime

    settings = load_settings()

    async def run() -> Any:
        runtime = Runtime.open(settings)
        try:
            return await action(runtime)
        finally:
            await runtime.close()

    try:
        return asyncio.run(run())
    except ServiceError as exc:
        die(exc.message)
