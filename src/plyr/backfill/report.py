"""What a backfill tells its caller: progress while it runs, a report when it ends.

The domain code only calls a `ProgressCallback`; the CLI decides how that looks (a progress
bar in a terminal, plain lines otherwise). The report keeps counts for what went well and
one entry per thing left out, with the reason, so an operator can act on each.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

Phase = Literal["listing", "repos", "links", "audio"]
# A relay's worth of broken records must not fill memory: past this, only counted.
MAX_REPORTED = 10_000
RepoStatus = Literal["done", "unchanged", "inactive", "failed"]


@dataclass(frozen=True, slots=True)
class Progress:
    """One step of a phase: `done` of `total` (None while the total is not known yet)."""

    phase: Phase
    done: int
    total: int | None
    detail: str = ""
    # A line worth showing on its own (a repo that failed, a phase that ended), not a tick.
    note: str | None = None


ProgressCallback = Callable[[Progress], None]


def no_progress(_: Progress) -> None:
    """The callback of a caller that shows nothing."""


@dataclass(frozen=True, slots=True)
class Skipped:
    """A record or repository left out, and why."""

    uri: str
    reason: str

    def as_json(self) -> dict[str, str]:
        return {"uri": self.uri, "reason": self.reason}


@dataclass(slots=True)
class RepoOutcome:
    """How one repository went (kept for the ones that did not simply work)."""

    did: str
    status: RepoStatus
    rev: str | None = None
    reason: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {"did": self.did, "status": self.status, "rev": self.rev, "reason": self.reason}


@dataclass
class BackfillReport:
    repos_done: int = 0
    repos_unchanged: int = 0
    repos_inactive: int = 0
    repos_failed: int = 0
    # Records indexed, by collection (the full NSID).
    indexed: Counter[str] = field(default_factory=Counter)
    # Rows removed because their record is no longer in its repository.
    removed: Counter[str] = field(default_factory=Counter)
    audio_ready: int = 0
    audio_unplayable: int = 0
    audio_pending: int = 0
    # Repositories that were skipped or failed, with why.
    repos: list[RepoOutcome] = field(default_factory=list)
    # Records left out (fails its lexicon, names an unknown track, audio that is no audio…).
    skipped: list[Skipped] = field(default_factory=list)
    # Left-out records past MAX_REPORTED: counted, not listed.
    skipped_more: int = 0
    # Listing the source's repositories broke off (the repos listed until then were done).
    listing_error: str | None = None

    @property
    def ok(self) -> bool:
        """False when a repository failed or the listing broke off (the exit code says so)."""
        return self.repos_failed == 0 and self.listing_error is None

    @property
    def records_indexed(self) -> int:
        return sum(self.indexed.values())

    def repo(self, outcome: RepoOutcome) -> None:
        if outcome.status == "done":
            self.repos_done += 1
            return
        if outcome.status == "unchanged":
            self.repos_unchanged += 1
        elif outcome.status == "inactive":
            self.repos_inactive += 1
        else:
            self.repos_failed += 1
        self.repos.append(outcome)

    def add_skipped(self, entries: list[Skipped]) -> None:
        room = max(MAX_REPORTED - len(self.skipped), 0)
        self.skipped.extend(entries[:room])
        self.skipped_more += max(len(entries) - room, 0)

    def as_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "repos": {
                "done": self.repos_done,
                "unchanged": self.repos_unchanged,
                "inactive": self.repos_inactive,
                "failed": self.repos_failed,
            },
            "records": dict(sorted(self.indexed.items())),
            "removed": dict(sorted(self.removed.items())),
            "audio": {
                "ready": self.audio_ready,
                "unplayable": self.audio_unplayable,
                "pending": self.audio_pending,
            },
            "listing_error": self.listing_error,
            "skipped_repos": [outcome.as_json() for outcome in self.repos],
            "skipped_records": [skip.as_json() for skip in self.skipped],
            "skipped_records_not_listed": self.skipped_more,
        }
