"""How far a backfill got, per repository (`backfill_repos`): what makes it resumable.

A repository is `running` from the moment plyr starts on it until both phases have
indexed it, then `done` with the revision it indexed; a later run skips it while the repo
is still at that revision. `failed` keeps the reason; the next run tries again. A run that
stops half-way leaves `running` rows: they are simply done again (indexing is idempotent).
"""

from __future__ import annotations

from typing import Any

from plyr.backfill.report import Skipped
from plyr.db.models import BackfillRepo
from plyr.runtime import Runtime

# A repository full of broken records must not make one row enormous.
MAX_SKIPPED_KEPT = 500


async def stored(runtime: Runtime, did: str) -> BackfillRepo | None:
    async with runtime.sessions() as db:
        return await db.get(BackfillRepo, did)


def _kept(skipped: list[dict[str, Any]], more: list[Skipped]) -> list[dict[str, Any]]:
    combined = skipped + [skip.as_json() for skip in more]
    if len(combined) <= MAX_SKIPPED_KEPT:
        return combined
    left_out = len(combined) - MAX_SKIPPED_KEPT + 1
    return [*combined[: MAX_SKIPPED_KEPT - 1], {"uri": "", "reason": f"and {left_out} more"}]


async def save(
    runtime: Runtime,
    did: str,
    *,
    status: str,
    rev: str | None = None,
    commit_cid: str | None = None,
    records: int | None = None,
    add_records: int = 0,
    skipped: list[Skipped] | None = None,
    add_skipped: list[Skipped] | None = None,
    error: str | None = None,
) -> None:
    """Create or update the repository's row. `records`/`skipped` replace what is stored
    (a new pass over the repo); `add_records`/`add_skipped` add to it (the second phase)."""
    async with runtime.sessions() as db:
        row = await db.get(BackfillRepo, did)
        if row is None:
            row = BackfillRepo(did=did, status=status, records=0, skipped=[])
            db.add(row)
        row.status = status
        row.error = error
        if rev is not None:
            row.rev = rev
        if commit_cid is not None:
            row.commit_cid = commit_cid
        if records is not None:
            row.records = records
        row.records = (row.records or 0) + add_records
        base: list[dict[str, Any]] = [] if skipped is not None else list(row.skipped or [])
        row.skipped = _kept(base, (skipped or []) + (add_skipped or []))
        await db.commit()
