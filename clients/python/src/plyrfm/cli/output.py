"""What a command prints: JSON on stdout with `--json` (and nothing else there), otherwise
lines and rich tables for a person. Progress bars go to stderr, and only to a terminal."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.markup import escape

if TYPE_CHECKING:
    from pydantic import BaseModel
    from rich.table import Table


def dump(model: BaseModel) -> dict[str, Any]:
    """A model as the server's JSON (its field names, JSON types)."""
    return model.model_dump(mode="json", by_alias=True)


class Output:
    def __init__(self, *, as_json: bool) -> None:
        self.as_json = as_json
        self.out = Console(highlight=False, soft_wrap=False)
        self.err = Console(stderr=True, highlight=False)

    @property
    def shows_progress(self) -> bool:
        """Progress bars only where a person watches, never around JSON for a script."""
        return not self.as_json and self.err.is_terminal

    def json(self, data: Any) -> None:
        sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")
        sys.stdout.flush()

    def model(self, model: BaseModel) -> None:
        self.json(dump(model))

    def models(self, models: Iterable[BaseModel]) -> None:
        self.json([dump(model) for model in models])

    def line(self, text: str) -> None:
        """A line for a person (rich markup allowed; escape what came from the server)."""
        if not self.as_json:
            # Never broken at the console's width (80 when piped): a script may read
            # the line, and a URL cut in two does not open.
            self.out.print(text, soft_wrap=True)

    def note(self, text: str) -> None:
        """Something beside the result (a hint, a warning): stderr, so stdout stays clean."""
        self.err.print(text, soft_wrap=True)

    def table(self, table: Table) -> None:
        if not self.as_json:
            self.out.print(table)


def new_table(*columns: str, title: str | None = None) -> Table:
    from rich import box
    from rich.table import Table

    table = Table(
        title=title, box=box.SIMPLE_HEAD, title_justify="left", pad_edge=False, show_edge=False
    )
    for column in columns:
        numeric = column in {"id", "#", "plays", "tracks", "likes", "length"}
        table.add_column(column, justify="right" if numeric else "left", overflow="fold")
    return table


def text(value: object) -> str:
    """A value from the server, safe inside rich markup ("" for None)."""
    return "" if value is None else escape(str(value))


def duration(seconds: float | None) -> str:
    if seconds is None:
        return ""
    whole = round(seconds)
    return f"{whole // 60}:{whole % 60:02d}"


def size(count: float | None) -> str:
    if count is None:
        return "?"
    for unit in ("B", "KB", "MB", "GB"):
        if count < 1000 or unit == "GB":
            return f"{count:.0f} {unit}" if unit == "B" else f"{count:.1f} {unit}"
        count /= 1000
    return f"{count:.1f} GB"


def joined(values: Sequence[str]) -> str:
    return escape(", ".join(values))
