"""`plyr check`: the effective configuration, and whether database, storage and data work."""

from __future__ import annotations

import asyncio

import typer

from plyr.cli.common import load_settings


def check() -> None:
    """Print the effective configuration (secrets masked) and check database, storage, data."""
    from plyr.preflight import run_checks
    from plyr.runtime import Runtime

    settings = load_settings()
    typer.echo("configuration")
    for name, value in settings.masked().items():
        typer.echo(f"  {name:28} {value}")

    async def checks() -> bool:
        runtime = Runtime.open(settings)
        try:
            results = await run_checks(runtime)
        finally:
            await runtime.close()
        typer.echo("checks")
        for result in results:
            mark = (
                typer.style("ok  ", fg=typer.colors.GREEN)
                if result.ok
                else typer.style("FAIL", fg=typer.colors.RED)
            )
            typer.echo(f"  {mark} {result.name:12} {result.detail}")
        return all(result.ok for result in results)

    if not asyncio.run(checks()):
        raise typer.Exit(code=1)
