"""`backfill`: rebuild plyr's index from the network, for given accounts or for every
repository a PDS or relay lists.

```
targets (DIDs / handles, or listRepos page by page)
  → phase 1, N repos at a time: DID document (PDS, signing key) → unchanged since the last
    run (same rev, done)? skip → getRepo → load_repo verifies (CIDs, signature, tree) →
    profiles and tracks indexed → the rest spooled
  → phase 2, N repos at a time: lists, likes, comments indexed (every track is known by
    now); rows whose record has gone removed; the repo marked done at its rev
  → phase 3: the audio of every track still pending, N at a time
```

A repository that cannot be fetched or fails verification is reported with the reason and
the others go on. Indexing goes through the same registered indexers as the firehose
(`plyr.ingest.handler_for`), so the caller must have imported `plyr.handlers`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field

import httpx

from plyr.atproto.identity import DidDocument, IdentityError
from plyr.atproto.netguard import guarded_client
from plyr.atproto.repo_car import RepoVerificationError, VerifiedRepo, load_repo
from plyr.backfill import state
from plyr.backfill.audio import AudioLimits, fetch_pending_audio
from plyr.backfill.network import FetchLimits, RepoUnavailable, get_repo, latest_rev
from plyr.backfill.records import (
    Indexed,
    Pending,
    Spool,
    in_namespace,
    index_records,
    present_keys,
    remove_missing,
    split_phases,
)
from plyr.backfill.report import (
    BackfillReport,
    Progress,
    ProgressCallback,
    RepoOutcome,
    RepoStatus,
    Skipped,
    no_progress,
)
from plyr.backfill.targets import Target, targets_listed, targets_named
from plyr.errors import ServiceError
from plyr.ingest import handler_for
from plyr.runtime import Runtime

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class BackfillOptions:
    concurrency: int = 4
    force: bool = False  # index repositories again even when their rev has not moved
    fetch_audio: bool = True
    limits: FetchLimits = field(default_factory=FetchLimits)


@dataclass
class _Run:
    runtime: Runtime
    options: BackfillOptions
    client: httpx.AsyncClient
    progress: ProgressCallback
    report: BackfillReport = field(default_factory=BackfillReport)
    spool: Spool = field(default_factory=Spool)
    listed: int = 0  # targets read so far
    total: int | None = None  # known once every target has been read
    fetched: int = 0  # targets through the first phase

    @property
    def namespace(self) -> str:
        return self.runtime.settings.atproto_namespace

    def fetched_one(self, did: str, note: str | None = None) -> None:
        self.fetched += 1
        self.progress(Progress("repos", self.fetched, self.total, detail=did, note=note))

    def outcome(self, outcome: RepoOutcome) -> str | None:
        """Count the repo in the report; the line to show when it did not simply work."""
        self.report.repo(outcome)
        if outcome.status == "done":
            return None
        return f"{outcome.status}: {outcome.did}" + (
            f" ({outcome.reason})" if outcome.reason else ""
        )

    # -- phase 1 --------------------------------------------------------------------------

    async def first_phase(self, target: Target) -> None:
        if target.error is not None or target.did is None:
            note = self.outcome(RepoOutcome(target.name, "failed", reason=target.error))
            self.fetched_one(target.name, note)
            return
        if target.inactive is not None:
            note = self.outcome(RepoOutcome(target.did, "inactive", reason=target.inactive))
            self.fetched_one(target.did, note)
            return
        did = target.did
        try:
            pending = await self._fetch_and_index(did, target.listed_rev)
        except RepoUnavailable as exc:
            status: RepoStatus = "inactive" if exc.inactive else "failed"
            await state.save(self.runtime, did, status=status, error=exc.reason)
            self.fetched_one(did, self.outcome(RepoOutcome(did, status, reason=exc.reason)))
            return
        except Exception as exc:  # a bug must cost one repository, not the run
            log.exception("backfilling %s failed", did)
            reason = f"unexpected error: {type(exc).__name__}: {exc}"
            await state.save(self.runtime, did, status="failed", error=reason)
            self.fetched_one(did, self.outcome(RepoOutcome(did, "failed", reason=reason)))
            return
        if isinstance(pending, RepoOutcome):  # unchanged since the last run
            self.fetched_one(did, self.outcome(pending))
            return
        self.spool.put(pending)
        self.fetched_one(did)

    async def _document(self, did: str, *, fresh: bool = False) -> DidDocument:
        if fresh:
            self.runtime.identity.invalidate(did)
        try:
            document = await self.runtime.identity.resolve_did(did)
        except IdentityError as exc:
            raise RepoUnavailable(f"the DID does not resolve: {exc.message}") from None
        if not document.signing_key:
            raise RepoUnavailable("the DID document names no signing key (#atproto)")
        return document

    async def _fetch_and_index(self, did: str, listed_rev: str | None) -> Pending | RepoOutcome:
        limits = self.options.limits
        document: DidDocument | None = None
        stored = await state.stored(self.runtime, did)
        if stored is not None and stored.status == "done" and not self.options.force:
            # A listing names the rev: an unchanged repo costs no identity lookup at all.
            rev = listed_rev
            if rev is None:
                document = await self._document(did)
                rev = await latest_rev(self.client, document.pds_url, did, limits)
            if rev is not None and rev == stored.rev:
                return RepoOutcome(did, "unchanged", rev=rev, reason="unchanged since the last run")
        document = document or await self._document(did)
        await state.save(self.runtime, did, status="running")
        car = await get_repo(self.client, document.pds_url, did, limits)
        repo = await self._verified(car, did, document)
        del car
        first, second = split_phases(repo, self.namespace)
        indexed = await index_records(self.runtime, did, repo.rev, first)
        indexed.skipped.extend(
            Skipped(f"at://{did}/{path}", f"unreadable record: {reason}")
            for path, reason in repo.problems
            if path.startswith(self.namespace + ".")  # others' records are not plyr's concern
        )
        self._count(indexed)
        await state.save(
            self.runtime,
            did,
            status="running",
            rev=repo.rev,
            commit_cid=repo.commit_cid,
            records=sum(indexed.counts.values()),
            skipped=indexed.skipped,
        )
        return Pending(did, repo.rev, second, present_keys(repo, self.namespace), indexed.errors)

    async def _verified(self, car: bytes, did: str, document: DidDocument) -> VerifiedRepo:
        """The verified repository; on failure the DID is resolved again once, for a key
        rotated since the document was cached."""
        assert document.signing_key is not None
        only_ours = in_namespace(self.namespace)
        try:
            return await asyncio.to_thread(
                load_repo, car, did=did, signing_key=document.signing_key, include=only_ours
            )
        except RepoVerificationError as exc:
            failure = exc.reason
        fresh = await self._document(did, fresh=True)
        if fresh.signing_key != document.signing_key:
            assert fresh.signing_key is not None
            try:
                return await asyncio.to_thread(
                    load_repo, car, did=did, signing_key=fresh.signing_key, include=only_ours
                )
            except RepoVerificationError as exc:
                failure = exc.reason
        raise RepoUnavailable(f"fails verification: {failure}")

    def _count(self, indexed: Indexed) -> None:
        self.report.indexed.update(indexed.counts)
        self.report.add_skipped(indexed.skipped)

    # -- phase 2 --------------------------------------------------------------------------

    async def second_phase(self, pending: Pending) -> str | None:
        """Index the repo's remaining records; the line to show when that failed."""
        try:
            indexed = await index_records(self.runtime, pending.did, pending.rev, pending.records)
            removed = await remove_missing(self.runtime, pending.did, pending.rev, pending.present)
        except Exception as exc:  # a bug must cost one repository, not the run
            log.exception("backfilling %s failed", pending.did)
            why = f"unexpected error: {type(exc).__name__}: {exc}"
            await state.save(self.runtime, pending.did, status="failed", error=why)
            return self.outcome(RepoOutcome(pending.did, "failed", reason=why))
        self._count(indexed)
        self.report.removed.update(removed.counts)
        self.report.add_skipped(removed.skipped)
        errors = pending.errors + indexed.errors + removed.errors
        reason = None
        if errors:
            reason = f"{len(errors)} records failed to index, e.g. {errors[0]}"
        await state.save(
            self.runtime,
            pending.did,
            status="failed" if errors else "done",
            add_records=sum(indexed.counts.values()),
            add_skipped=indexed.skipped + removed.skipped,
            error=reason,
        )
        return self.outcome(
            RepoOutcome(pending.did, "failed" if errors else "done", rev=pending.rev, reason=reason)
        )


async def _pool(
    items: AsyncIterator[object], work: Callable[[object], Awaitable[None]], size: int
) -> None:
    """Run `work` on every item, `size` at a time, reading items only as slots free up."""
    queue: asyncio.Queue[object] = asyncio.Queue(maxsize=size)
    stop = object()

    async def worker() -> None:
        while (item := await queue.get()) is not stop:
            await work(item)

    async def produce() -> None:
        async for item in items:
            await queue.put(item)
        for _ in range(size):
            await queue.put(stop)

    # A worker that dies cancels the others and the producer (no put waits forever).
    async with asyncio.TaskGroup() as group:
        for _ in range(size):
            group.create_task(worker())
        group.create_task(produce())


async def backfill(
    runtime: Runtime,
    *,
    identifiers: Sequence[str] = (),
    source: str | None = None,
    options: BackfillOptions | None = None,
    progress: ProgressCallback = no_progress,
) -> BackfillReport:
    """Index the repositories named by `identifiers` (DIDs or handles), or every one
    `source` (a PDS or relay URL) lists. Never raises for one bad repository: the report
    says what failed and why."""
    options = options or BackfillOptions()
    namespace = runtime.settings.atproto_namespace
    if handler_for(namespace, f"{namespace}.track") is None:
        raise ServiceError(500, "indexers_missing", "no indexers registered: import plyr.handlers")
    if bool(identifiers) == bool(source):
        raise ServiceError(400, "bad_request", "name accounts or a service to list, not both")
    client = guarded_client(runtime.settings, timeout=min(options.limits.timeout_seconds, 30.0))
    run = _Run(runtime, options, client, progress)
    try:
        await _phases(run, identifiers, source)
    finally:
        run.spool.close()
        await client.aclose()
    return run.report


async def _phases(run: _Run, identifiers: Sequence[str], source: str | None) -> None:
    options = run.options
    if source is not None:
        targets = targets_listed(run.client, source, options.limits)
    else:
        targets = targets_named(run.runtime, identifiers)

    if identifiers:
        run.total = len(identifiers)

    async def counted() -> AsyncIterator[object]:
        try:
            async for target in targets:
                run.listed += 1
                if source is not None and run.listed % 1000 == 0:
                    run.progress(Progress("listing", run.listed, None))
                yield target
        except RepoUnavailable as exc:  # the listing broke off: what came so far still counts
            run.report.listing_error = f"listing {source}: {exc.reason}"
        run.total = run.listed  # now known (named accounts: less any given twice)
        if source is not None:
            note = run.report.listing_error or f"{source} lists {run.listed} repositories"
            run.progress(Progress("listing", run.listed, run.listed, note=note))
        run.progress(Progress("repos", run.fetched, run.total))

    async def first(item: object) -> None:
        assert isinstance(item, Target)
        await run.first_phase(item)

    run.progress(Progress("repos", 0, run.total))
    await _pool(counted(), first, options.concurrency)

    total = run.spool.count
    linked = 0

    async def spooled() -> AsyncIterator[object]:
        for pending in run.spool:
            yield pending

    async def second(item: object) -> None:
        nonlocal linked
        assert isinstance(item, Pending)
        note = await run.second_phase(item)
        linked += 1
        run.progress(Progress("links", linked, total, detail=item.did, note=note))

    run.progress(Progress("links", 0, total))
    await _pool(spooled(), second, options.concurrency)
    if options.fetch_audio:
        audio = AudioLimits(
            concurrency=options.concurrency,
            attempts=options.limits.attempts,
            backoff_seconds=options.limits.backoff_seconds,
        )
        await fetch_pending_audio(run.runtime, run.report, audio, run.progress)
