"""`plyr moderation …`: what operators do from the shell (sensitive artwork for now)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from plyr.cli import moderation_review
from plyr.cli.common import die, run_service

if TYPE_CHECKING:
    pass

moderation_app = typer.Typer(help="Moderation: sensitive artwork.", no_args_is_help=True)
moderation_app.add_typer(moderation_review.reference_app, name="reference")
moderation_app.add_typer(moderation_review.flags_app, name="flags")
moderation_app.command("audit")(moderation_review.audit_log)
moderation_app.command("backfill")(moderation_review.backfill)


@moderation_app.command("flag-image")
def flag_image(
    image: Annotated[str, typer.Argument(help="a stored key, plyr's /images/{id} URL, or a URL")],
    reason: Annotated[str | None, typer.Option(help="why, for the other operators")] = None,
) -> None:
    """Flag artwork as sensitive: blurred unless the viewer opted in; no link previews."""
    from plyr.moderation import sensitive_labels

    row = run_service(lambda runtime: sensitive_labels.flag_image(runtime, image, reason, by="cli"))
    typer.echo(f"flagged {row.target}")


@moderation_app.command("unflag-image")
def unflag_image(
    image: Annotated[str, typer.Argument(help="the key or URL as it was flagged")],
) -> None:
    """Clear a sensitive-artwork flag."""
    from plyr.moderation import sensitive_labels

    if not run_service(lambda runtime: sensitive_labels.unflag_image(runtime, image, by="cli")):
        die(f"{image} is not flagged")
    typer.echo(f"unflagged {image}")


@moderation_app.command("list-images")
def list_images() -> None:
    """Every flagged image, newest first."""
    from plyr.social import sensitive

    rows = run_service(sensitive.list_flagged)
    if not rows:
        typer.echo("no flagged images")
    for row in rows:
        when = row.created_at.strftime("%Y-%m-%d %H:%M")
        typer.echo(f"{when}  {row.target}  {row.reason or ''}  ({row.flagged_by or '?'})")
