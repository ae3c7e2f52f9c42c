"""`plyr admin …`: the operators' tools from the shell. Take a track down or restore it,
hide an account's content or show it again, delete a track for good. Each calls the same
domain functions as the admin API (`plyr.moderation`), audited with the actor "cli"."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated, Any

import typer

from plyr.cli.common import run_service

if TYPE_CHECKING:
    from plyr.runtime import Runtime

admin_app = typer.Typer(
    help="Operators' tools: takedowns, hidden accounts, deleting tracks.", no_args_is_help=True
)

ACTOR = "cli"


async def _track_id(runtime: Runtime, ref: str) -> int:
    """The track a ref names: its id, its /tracks/ID URL or its at:// URI (as delete-track)."""
    from plyr.moderation.admin import find_track

    return (await find_track(runtime, ref)).id


@admin_app.command("delete-track")
def delete_track(
    track: Annotated[str, typer.Argument(help="the track's id, its /tracks/ID URL or at:// URI")],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="say what would go; change nothing")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="the report as JSON")] = False,
) -> None:
    """Delete a track for good: its rows, the files nothing else uses, and its record in the
    artist's PDS where plyr holds their session (otherwise the report says what remains)."""
    from plyr.moderation import admin

    report = run_service(
        lambda runtime: admin.delete_track(runtime, track, actor=ACTOR, dry_run=dry_run)
    )
    if as_json:
        typer.echo(json.dumps(report.as_dict(), indent=2))
        return
    for line in report.lines():
        typer.echo(line)


@admin_app.command("takedown")
def takedown(
    track: Annotated[str, typer.Argument(help="the track's id, its /tracks/ID URL or at:// URI")],
    reason: Annotated[str, typer.Option("--reason", help="why; the artist and listeners see it")],
) -> None:
    """Take a track down: it leaves every listing and queue, its audio answers 451; its
    record stays in the artist's PDS."""
    from plyr.moderation import takedown as moderation

    async def act(runtime: Runtime) -> Any:
        track_id = await _track_id(runtime, track)
        return await moderation.take_down_track(runtime, track_id, reason=reason, actor=ACTOR)

    row = run_service(act)
    typer.echo(f"took down track {row.id} ({row.title}): {row.takedown_reason}")


@admin_app.command("restore")
def restore(
    track: Annotated[str, typer.Argument(help="the track's id, its /tracks/ID URL or at:// URI")],
) -> None:
    """Reverse a takedown: the track is back everywhere; its labels are negated."""
    from plyr.moderation import takedown as moderation

    async def act(runtime: Runtime) -> Any:
        track_id = await _track_id(runtime, track)
        return await moderation.restore_track(runtime, track_id, actor=ACTOR)

    row = run_service(act)
    typer.echo(f"restored track {row.id} ({row.title})")


@admin_app.command("hide-account")
def hide_account(
    account: Annotated[str, typer.Argument(help="the account's DID or handle")],
    reason: Annotated[str, typer.Option("--reason", help="why, for the audit log")],
) -> None:
    """Hide all of an account's content (tracks, lists, comments, likes) from public views;
    its records stay in its PDS."""
    from plyr.moderation import takedown as moderation

    artist = run_service(
        lambda runtime: moderation.hide_account(runtime, account, reason=reason, actor=ACTOR)
    )
    typer.echo(f"hid @{artist.handle} ({artist.did})")


@admin_app.command("unhide-account")
def unhide_account(
    account: Annotated[str, typer.Argument(help="the account's DID or handle")],
) -> None:
    """Show a hidden account's content again."""
    from plyr.moderation import takedown as moderation

    artist = run_service(lambda runtime: moderation.unhide_account(runtime, account, actor=ACTOR))
    typer.echo(f"showing @{artist.handle} ({artist.did}) again")
