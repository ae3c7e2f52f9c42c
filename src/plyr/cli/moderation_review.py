"""`plyr moderation reference|flags|audit|backfill`: the copyright review from the shell, over
the same domain functions as the admin API. Decisions made here are audited as "cli"."""

from __future__ import annotations

import dataclasses
import enum
import json
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from plyr.cli.common import die, run_service

if TYPE_CHECKING:
    from plyr.moderation.flags import Decision, FlagView
    from plyr.runtime import Runtime

ACTOR = "cli"

reference_app = typer.Typer(help="The reference catalogue of known works.", no_args_is_help=True)
flags_app = typer.Typer(help="Flags opened by matches: list and decide.", no_args_is_help=True)


class StatusChoice(enum.StrEnum):
    open = "open"
    violation = "violation"
    false_positive = "false_positive"
    all = "all"


class ReasonChoice(enum.StrEnum):
    fingerprint_noise = "fingerprint_noise"
    original_artist = "original_artist"
    fair_use = "fair_use"
    other = "other"


def _jsonable(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return value.value
    return value


def _flag_line(flag: FlagView) -> str:
    if flag.matched_work is not None:
        what = (
            f"work {flag.matched_work.id} “{flag.matched_work.title}” by {flag.matched_work.artist}"
        )
    elif flag.matched_track is not None:
        other = flag.matched_track
        what = f"track {other.id} “{other.title}” by {other.artist_handle or other.artist_did}"
    else:
        what = "?"
    track = flag.track
    down = " (taken down)" if track.taken_down else ""
    return (
        f"{flag.id:>6}  {flag.status.value:<14} {flag.score:>3}  track {track.id} “{track.title}”"
        f" by {track.artist_handle or track.artist_did}{down}  ~ {what}"
    )


@reference_app.command("import")
def import_references(
    paths: Annotated[list[Path], typer.Argument(help="audio files or fpcalc fingerprint files")],
    title: Annotated[str | None, typer.Option(help="default: the tags, then the file name")] = None,
    artist: Annotated[str | None, typer.Option(help="default: the file's tags")] = None,
    rights_holder: Annotated[str | None, typer.Option("--rights-holder")] = None,
) -> None:
    """Import known works; what is already on plyr is scanned against them (a job)."""
    from plyr.moderation import references

    if title is not None and len(paths) > 1:
        die("--title names one work: import one file at a time with it")
    for path in paths:
        if not path.is_file():
            die(f"{path}: no such file")

    async def run(runtime: Runtime) -> list[references.WorkInfo]:
        made = []
        for path in paths:
            made += await references.import_file(
                runtime,
                path,
                filename=path.name,
                title=title,
                artist=artist,
                rights_holder=rights_holder,
                actor=ACTOR,
            )
        return made

    for work in run_service(run):
        audio = "audio" if work.audio_key else "fingerprint only"
        typer.echo(
            f"imported work {work.id}: “{work.title}” by {work.artist}"
            f" ({work.duration_seconds:.0f} s, {audio})"
        )


@reference_app.command("list")
def list_references(
    as_json: Annotated[bool, typer.Option("--json", help="one JSON document")] = False,
) -> None:
    """Every reference work, newest first."""
    from plyr.moderation import references

    works, total = run_service(lambda runtime: references.list_works(runtime, limit=500))
    if as_json:
        typer.echo(json.dumps({"works": _jsonable(works), "total": total}, indent=2))
        return
    if not works:
        typer.echo("no reference works")
    for work in works:
        holder = f"  © {work.rights_holder}" if work.rights_holder else ""
        typer.echo(f"{work.id:>6}  “{work.title}” by {work.artist}{holder}  [{work.source or ''}]")


@reference_app.command("delete")
def delete_reference(work_id: Annotated[int, typer.Argument(min=1)]) -> None:
    """Delete a reference work and the flags it opened."""
    from plyr.moderation import references

    run_service(lambda runtime: references.delete_work(runtime, work_id, actor=ACTOR))
    typer.echo(f"deleted work {work_id}")


@flags_app.command("list")
def list_flags(
    status: Annotated[StatusChoice, typer.Option(help="which flags")] = StatusChoice.open,
    min_score: Annotated[int, typer.Option("--min-score", min=0, max=100)] = 0,
    limit: Annotated[int, typer.Option(min=1, max=200)] = 50,
    as_json: Annotated[bool, typer.Option("--json", help="one JSON document")] = False,
) -> None:
    """Flags, highest score first."""
    from plyr.db.models import FlagStatus
    from plyr.moderation import flags

    chosen = None if status == StatusChoice.all else FlagStatus(status.value)
    page, total = run_service(
        lambda runtime: flags.list_flags(runtime, status=chosen, min_score=min_score, limit=limit)
    )
    if as_json:
        typer.echo(json.dumps({"flags": _jsonable(page), "total": total}, indent=2))
        return
    if not page:
        typer.echo("no flags")
    for flag in page:
        typer.echo(_flag_line(flag))
    if total > len(page):
        typer.echo(f"… {total - len(page)} more")


@flags_app.command("resolve")
def resolve_flags(
    flag_ids: Annotated[list[int], typer.Argument(min=1, help="flag ids")],
    violation: Annotated[bool, typer.Option("--violation", help="take the tracks down")] = False,
    false_positive: Annotated[bool, typer.Option("--false-positive")] = False,
    reason: Annotated[ReasonChoice | None, typer.Option(help="why it is a false positive")] = None,
    note: Annotated[str | None, typer.Option(help="for the other operators")] = None,
) -> None:
    """Decide flags: --violation (takedown) or --false-positive --reason …."""
    from plyr.db.models import FalsePositiveReason
    from plyr.moderation import flags

    if violation == false_positive:
        die("choose one of --violation or --false-positive")
    decision: Decision = "violation" if violation else "false_positive"
    chosen = FalsePositiveReason(reason.value) if reason else None
    views = run_service(
        lambda runtime: flags.resolve(
            runtime, flag_ids, decision=decision, reason=chosen, note=note, actor=ACTOR
        )
    )
    for view in views:
        typer.echo(_flag_line(view))


@flags_app.command("reopen")
def reopen_flags(
    flag_ids: Annotated[list[int], typer.Argument(min=1, help="flag ids")],
    note: Annotated[str | None, typer.Option(help="for the other operators")] = None,
) -> None:
    """Return decided flags to the queue; a violation's track is restored."""
    from plyr.moderation import flags

    views = run_service(lambda runtime: flags.reopen(runtime, flag_ids, actor=ACTOR, note=note))
    for view in views:
        typer.echo(_flag_line(view))


def audit_log(
    subject: Annotated[str | None, typer.Option(help='one thing: "flag:12", "track:34"')] = None,
    limit: Annotated[int, typer.Option(min=1, max=500)] = 50,
    as_json: Annotated[bool, typer.Option("--json", help="one JSON document")] = False,
) -> None:
    """The audit log of moderation decisions, newest first."""
    from plyr.moderation import audit

    rows = run_service(lambda runtime: audit.entries(runtime, subject=subject, limit=limit))
    if as_json:
        typer.echo(json.dumps(_jsonable(rows), indent=2))
        return
    if not rows:
        typer.echo("no entries")
    for row in rows:
        detail = " ".join(f"{k}={v}" for k, v in row.detail.items() if v is not None)
        when = row.at.strftime("%Y-%m-%d %H:%M:%S")
        typer.echo(f"{when}  {row.actor}  {row.action}  {row.subject}  {detail}")


def backfill(
    now: Annotated[
        bool, typer.Option("--now", help="enqueue every scan here, not in a worker's job")
    ] = False,
) -> None:
    """Scan every published track that has no fingerprint yet: enqueues the backfill job (a
    worker enqueues the scans) and returns at once."""
    from plyr.moderation import scanning

    if now:
        count = run_service(lambda runtime: scanning.enqueue_backfill(runtime, actor=ACTOR))
        typer.echo(f"enqueued {count} scan{'s' if count != 1 else ''}")
        return
    job_id, queued = run_service(lambda runtime: scanning.request_backfill(runtime, actor=ACTOR))
    if queued:
        typer.echo(f"enqueued the backfill (job {job_id}): a worker enqueues the scans")
    else:
        typer.echo(f"a backfill is already waiting (job {job_id})")
