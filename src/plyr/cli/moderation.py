"""`plyr moderation …`: what operators do from the shell (sensitive artwork for now)."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Annotated, Any

import typer

from plyr.cli import moderation_review
from plyr.cli.common import die, load_settings

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from plyr.runtime import Runtime

moderation_app = typer.Typer(help="Moderation: sensitive artwork.", no_args_is_help=True)
moderation_app.add_typer(moderation_review.reference_app, name="reference")
moderation_app.add_typer(moderation_review.flags_app, name="flags")
moderation_app.command("audit")(moderation_review.audit_log)
moderation_app.command("backfill")(moderation_review.backfill)


def _moderate(action: Callable[[Runtime], Awaitable[Any]]) -> Any:
    """Run one moderation action against the configured database."""
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


@moderation_app.command("flag-image")
def flag_image(
    image: Annotated[str, typer.Argument(help="a stored key, plyr's /images/{id} URL, or a URL")],
    reason: Annotated[str | None, typer.Option(help="why, for the other operators")] = None,
) -> None:
    """Flag artwork as sensitive: blurred unless the viewer opted in; no link previews."""
    from plyr.moderation import sensitive_labels

    row = _moderate(lambda runtime: sensitive_labels.flag_image(runtime, image, reason, by="cli"))
    typer.echo(f"flagged {row.target}")


@moderation_app.command("unflag-image")
def unflag_image(
    image: Annotated[str, typer.Argument(help="the key or URL as it was flagged")],
) -> None:
    """Clear a sensitive-artwork flag."""
    from plyr.moderation import sensitive_labels

    if not _moderate(lambda runtime: sensitive_labels.unflag_image(runtime, image)):
        die(f"{image} is not flagged")
    typer.echo(f"unflagged {image}")


@moderation_app.command("list-images")
def list_images() -> None:
    """Every flagged image, newest first."""
    from plyr.social import sensitive

    rows = _moderate(sensitive.list_flagged)
    if not rows:
        typer.echo("no flagged images")
    for row in rows:
        when = row.created_at.strftime("%Y-%m-%d %H:%M")
        typer.echo(f"{when}  {row.target}  {row.reason or ''}  ({row.flagged_by or '?'})")
