"""Progress bars on stderr: an upload through every phase (sending the bytes, then each
server phase with its percent and message, until published), and byte transfers (download,
export). Where nobody watches (`--json`, stderr not a terminal) they draw nothing."""

from __future__ import annotations

from types import TracebackType
from typing import TYPE_CHECKING, Any, Self

from rich.progress import (
    BarColumn,
    Progress,
    SpinnerColumn,
    TaskID,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
)

from plyrfm.cli.output import Output, size, text

if TYPE_CHECKING:
    from plyrfm.models import DownloadProgress, Export, UploadProgress

SENDING = "sending"
DONE_PHASES = {"published", "failed"}


class _Bar:
    """One rich Progress with one task, on stderr, or nothing at all."""

    def __init__(self, out: Output, description: str) -> None:
        self.out = out
        self.progress: Progress | None = None
        self.task = TaskID(0)
        self.description = description

    def __enter__(self) -> Self:
        if self.out.shows_progress:
            self.progress = Progress(
                SpinnerColumn(),
                TextColumn("{task.description:<11}"),
                BarColumn(bar_width=32),
                TaskProgressColumn(),
                TextColumn("{task.fields[detail]}", markup=True),
                TimeElapsedColumn(),
                console=self.out.err,
                transient=True,  # the command's own lines stay; the bar goes
            )
            self.progress.start()
            self.task = self.progress.add_task(self.description, total=None, detail="")
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        if self.progress is not None:
            self.progress.stop()

    def update(
        self,
        *,
        description: str | None = None,
        completed: float | None = None,
        total: float | None = None,
        detail: str | None = None,
    ) -> None:
        if self.progress is None:
            return
        fields: dict[str, Any] = {"detail": detail} if detail is not None else {}
        self.progress.update(
            self.task, description=description, completed=completed, total=total, **fields
        )

    def done_line(self, line: str) -> None:
        """A finished step, printed above the bar so the history stays on screen."""
        if self.progress is not None:
            self.progress.console.print(line)


class UploadBar(_Bar):
    """`on_progress` for Client.upload: one bar that moves through the phases and leaves a
    ✓ line behind for each one finished."""

    def __init__(self, out: Output, name: str) -> None:
        super().__init__(out, SENDING)
        self.name = name
        self.phase: str | None = None
        self.warnings: list[str] = []

    def __call__(self, event: UploadProgress) -> None:
        for warning in event.warnings:
            if warning not in self.warnings:
                self.warnings.append(warning)
        if event.phase != self.phase:
            if self.phase is not None:
                self.done_line(f"[green]✓[/green] {text(self.phase)}")
            self.phase = event.phase
        if event.phase == SENDING:
            sent, total = event.bytes_sent or 0, event.bytes_total
            self.update(
                description=SENDING,
                completed=sent,
                total=total,
                detail=f"{text(self.name)}  {size(sent)} / {size(total)}",
            )
            return
        self.update(
            description=event.phase,
            completed=100 if event.phase == "published" else event.percent,
            total=100,
            detail=text(event.message),
        )


class TransferBar(_Bar):
    """`on_progress` for download and export: the server packing an export (its share
    done, files so far), then the bytes coming in."""

    def __call__(self, event: DownloadProgress | Export) -> None:
        from plyrfm.models import Export

        if isinstance(event, Export):
            self.update(
                description=f"packing ({event.status})",
                completed=event.progress * 100,
                total=100,
                detail=f"{event.files} files",
            )
            return
        done, total = event.bytes_received, event.bytes_total
        self.update(
            description=self.description,
            completed=done,
            total=total,
            detail=f"{size(done)} / {size(total)}",
        )
