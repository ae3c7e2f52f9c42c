"""The review queue's rules (`plyr.moderation.flags`) on SQLite and PostgreSQL: listing by
status and score, decisions one by one and in bulk (all or nothing), takedowns and their
reversal (a track stays down while any violation holds it), the artist's one appeal, and
the audit entry every decision writes."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from plyr.db.models import (
    Artist,
    FalsePositiveReason,
    FlagStatus,
    ModerationEvent,
    ModerationFlag,
    PublishState,
    ReferenceWork,
    Track,
    utcnow,
)
from plyr.errors import ServiceError
from plyr.moderation import audit, flags, references
from plyr.moderation.scanning import open_flag
from plyr.runtime import Runtime

ALICE = "did:plc:aliceaaaaaaaaaaaaaaaaaaa"
BOB = "did:plc:bobbbbbbbbbbbbbbbbbbbbbb"
RANGES = [{"start": 0.0, "end": 30.0, "matched_start": 0.0, "matched_end": 30.0}]


class World:
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.n = 0

    async def track(self, did: str, title: str, *, minutes: int = 0) -> int:
        self.n += 1
        async with self.runtime.sessions() as db:
            row = Track(
                artist_did=did,
                title=title,
                artist_name=did.split(":")[-1][:5],
                file_type="mp3",
                duration_seconds=40,
                content_hash=f"{self.n:064d}",
                original_key=f"audio/{self.n}.mp3",
                rkey=f"3k{self.n:010d}",
                atproto_uri=f"at://{did}/fm.plyr.track/3k{self.n:010d}",
                publish_state=PublishState.published,
                created_at=utcnow() + timedelta(minutes=minutes),
            )
            db.add(row)
            await db.commit()
            return row.id

    async def work(self, title: str = "known song") -> int:
        async with self.runtime.sessions() as db:
            work = ReferenceWork(
                title=title,
                artist="famous band",
                rights_holder="big label",
                source="known.flac",
                duration_seconds=40.0,
                engine="chromaprint-2",
                fingerprint=b"\0" * 16,
            )
            db.add(work)
            await db.commit()
            return work.id

    async def flag(
        self, track_id: int, *, work_id: int | None = None, other: int | None = None, score: int
    ) -> int:
        key = f"work:{work_id}" if work_id else f"track:{other}"
        async with self.runtime.sessions() as db:
            flag = await open_flag(
                db,
                track_id=track_id,
                match_key=key,
                score=score,
                ranges=RANGES,
                engine="chromaprint-2",
                work_id=work_id,
                matched_track_id=other,
            )
            await db.commit()
        assert flag is not None
        return flag.id

    async def taken_down(self, track_id: int) -> bool:
        async with self.runtime.sessions() as db:
            track = await db.get(Track, track_id)
            assert track is not None
            return track.taken_down_at is not None

    async def actions(self, subject: str) -> list[str]:
        return [e.action for e in reversed(await audit.entries(self.runtime, subject=subject))]

    async def events(self) -> int:
        async with self.runtime.sessions() as db:
            return int(await db.scalar(select(func.count()).select_from(ModerationEvent)) or 0)


@pytest.fixture
async def world(runtime: Runtime) -> World:
    async with runtime.sessions() as db:
        for did, handle in ((ALICE, "alice.test"), (BOB, "bob.test")):
            db.add(Artist(did=did, handle=handle, display_name=handle, pds_url="http://pds"))
        await db.commit()
    return World(runtime)


async def test_listing_filters_sorts_and_pages(world: World) -> None:
    work = await world.work()
    original = await world.track(ALICE, "original")
    low = await world.flag(await world.track(BOB, "a"), work_id=work, score=55)
    high = await world.flag(await world.track(BOB, "b"), other=original, score=97)
    mid = await world.flag(await world.track(BOB, "c"), work_id=work, score=80)

    page, total = await flags.list_flags(world.runtime)
    assert [f.id for f in page] == [high, mid, low]
    assert total == 3
    page, total = await flags.list_flags(world.runtime, sort="score", limit=2)
    assert [f.id for f in page] == [low, mid]
    assert total == 3
    page, _ = await flags.list_flags(world.runtime, sort="created", offset=1)
    assert [f.id for f in page] == [high, mid]
    page, total = await flags.list_flags(world.runtime, min_score=60, max_score=90)
    assert [f.id for f in page] == [mid]
    assert total == 1

    shown = await flags.get_flag(world.runtime, high)
    assert shown.status == FlagStatus.open
    assert shown.score == 97
    assert shown.ranges == RANGES
    assert shown.matched_track is not None
    assert shown.matched_track.id == original
    assert shown.matched_track.artist_handle == "alice.test"
    assert shown.matched_work is None
    assert shown.track.artist_did == BOB
    assert not shown.track.taken_down
    by_work = await flags.get_flag(world.runtime, mid)
    assert by_work.matched_work is not None
    assert by_work.matched_work.rights_holder == "big label"
    assert not by_work.matched_work.has_audio
    assert await world.actions(f"flag:{high}") == ["flag.open"]

    with pytest.raises(ServiceError) as bad_sort:
        await flags.list_flags(world.runtime, sort="title")
    assert bad_sort.value.status == 422
    with pytest.raises(ServiceError) as unknown:
        await flags.get_flag(world.runtime, 10**12)
    assert (unknown.value.status, unknown.value.message) == (404, "no such flag")


async def test_a_rescan_updates_an_open_flag_and_leaves_a_decided_one(world: World) -> None:
    work = await world.work()
    track = await world.track(BOB, "copy")
    flag_id = await world.flag(track, work_id=work, score=60)
    async with world.runtime.sessions() as db:
        again = await open_flag(
            db, track_id=track, match_key=f"work:{work}", score=75, ranges=[], engine="e"
        )
        await db.commit()
    assert again is None
    assert (await flags.get_flag(world.runtime, flag_id)).score == 75
    await flags.resolve(
        world.runtime,
        [flag_id],
        decision="false_positive",
        reason=FalsePositiveReason.original_artist,
        actor="did:plc:admin",
    )
    async with world.runtime.sessions() as db:
        await open_flag(
            db, track_id=track, match_key=f"work:{work}", score=99, ranges=[], engine="e"
        )
        await db.commit()
    after = await flags.get_flag(world.runtime, flag_id)
    assert (after.status, after.score) == (FlagStatus.false_positive, 75)
    assert await world.actions(f"flag:{flag_id}") == ["flag.open", "flag.false_positive"]


async def test_a_violation_takes_the_track_down_and_a_reversal_restores_it(world: World) -> None:
    work = await world.work("the hit")
    track = await world.track(BOB, "copy")
    flag_id = await world.flag(track, work_id=work, score=90)

    [decided] = await flags.resolve(
        world.runtime, [flag_id], decision="violation", note="plain copy", actor="did:plc:admin"
    )
    assert decided.status == FlagStatus.violation
    assert decided.resolved_by == "did:plc:admin"
    assert decided.track.taken_down
    assert "the hit" in (decided.track.takedown_reason or "")
    assert decided.note == "plain copy"
    assert decided.resolved_at is not None
    assert await world.actions(f"flag:{flag_id}") == ["flag.open", "flag.violation"]
    assert await world.actions(f"track:{track}") == ["track.takedown"]

    [reopened] = await flags.reopen(world.runtime, [flag_id], actor="cli", note="second look")
    assert reopened.status == FlagStatus.open
    assert reopened.resolved_by is None
    assert not await world.taken_down(track)
    assert (await world.actions(f"flag:{flag_id}"))[-1] == "flag.reopen"
    assert await world.actions(f"track:{track}") == ["track.takedown", "track.restore"]

    # A violation changed to a false positive restores the track too.
    await flags.resolve(world.runtime, [flag_id], decision="violation", actor="cli")
    assert await world.taken_down(track)
    [cleared] = await flags.resolve(
        world.runtime,
        [flag_id],
        decision="false_positive",
        reason=FalsePositiveReason.fair_use,
        actor="cli",
    )
    assert cleared.reason == FalsePositiveReason.fair_use
    assert not cleared.track.taken_down


async def test_a_track_stays_down_while_any_violation_holds_it(world: World) -> None:
    first, second = await world.work("one"), await world.work("two")
    track = await world.track(BOB, "medley")
    a = await world.flag(track, work_id=first, score=90)
    b = await world.flag(track, work_id=second, score=85)
    views = await flags.resolve(world.runtime, [a, b], decision="violation", actor="cli")
    assert [v.status for v in views] == [FlagStatus.violation] * 2
    assert await world.actions(f"track:{track}") == ["track.takedown"]  # once, not twice
    await flags.reopen(world.runtime, [a], actor="cli")
    assert await world.taken_down(track)
    await flags.reopen(world.runtime, [b], actor="cli")
    assert not await world.taken_down(track)


async def test_bad_decisions_change_nothing(world: World) -> None:
    work = await world.work()
    a = await world.flag(await world.track(BOB, "a"), work_id=work, score=90)
    b = await world.flag(await world.track(BOB, "b"), work_id=work, score=90)
    before = await world.events()

    with pytest.raises(ServiceError) as unknown:
        await flags.resolve(world.runtime, [a, 10**12, b], decision="violation", actor="cli")
    assert unknown.value.status == 404
    assert str(10**12) in unknown.value.message
    with pytest.raises(ServiceError) as no_reason:
        await flags.resolve(world.runtime, [a], decision="false_positive", actor="cli")
    assert no_reason.value.status == 422
    assert "reason" in no_reason.value.message
    with pytest.raises(ServiceError) as none:
        await flags.resolve(world.runtime, [], decision="violation", actor="cli")
    assert none.value.status == 422
    with pytest.raises(ServiceError) as long_note:
        await flags.reopen(world.runtime, [a], actor="cli", note="x" * 2001)
    assert long_note.value.status == 422

    page, _ = await flags.list_flags(world.runtime)
    assert {f.id for f in page} == {a, b}
    assert all(not f.track.taken_down for f in page)
    assert await world.events() == before


async def test_the_artist_appeals_once_and_the_flag_returns_to_the_queue(world: World) -> None:
    work = await world.work()
    track = await world.track(BOB, "my song")
    flag_id = await world.flag(track, work_id=work, score=88)
    await flags.resolve(world.runtime, [flag_id], decision="violation", actor="cli")
    before = await world.events()

    for did, text, status in (
        (ALICE, "not yours to appeal", 404),  # as an unknown flag: no probing of ids
        (BOB, "   ", 422),
        (BOB, "x" * 2001, 422),
    ):
        with pytest.raises(ServiceError) as refused:
            await flags.appeal(world.runtime, flag_id, did=did, text=text)
        assert refused.value.status == status
    with pytest.raises(ServiceError) as unknown:
        await flags.appeal(world.runtime, 10**12, did=BOB, text="hello")
    assert unknown.value.status == 404
    assert await world.events() == before

    appealed = await flags.appeal(world.runtime, flag_id, did=BOB, text=" I wrote this in 2019 ")
    assert appealed.status == FlagStatus.open
    assert appealed.appeal_text == "I wrote this in 2019"
    assert appealed.appealed_at is not None
    assert appealed.track.taken_down  # down until an operator decides again
    [entry] = await audit.entries(world.runtime, subject=f"flag:{flag_id}", limit=1)
    assert (entry.action, entry.actor) == ("flag.appeal", BOB)
    assert entry.detail["previous"] == "violation"
    assert entry.detail["status"] == "open"

    with pytest.raises(ServiceError) as twice:
        await flags.appeal(world.runtime, flag_id, did=BOB, text="again")
    assert twice.value.status == 409

    await flags.resolve(
        world.runtime,
        [flag_id],
        decision="false_positive",
        reason=FalsePositiveReason.original_artist,
        actor="cli",
    )
    assert not await world.taken_down(track)


async def test_an_artist_sees_their_tracks_under_review_newest_first(world: World) -> None:
    work = await world.work()
    older = await world.flag(await world.track(BOB, "old"), work_id=work, score=70)
    cleared = await world.flag(await world.track(BOB, "fine"), work_id=work, score=70)
    newer = await world.flag(await world.track(BOB, "new"), work_id=work, score=70)
    await world.flag(await world.track(ALICE, "hers"), work_id=work, score=70)
    await flags.resolve(world.runtime, [older], decision="violation", actor="cli")
    await flags.resolve(
        world.runtime,
        [cleared],
        decision="false_positive",
        reason=FalsePositiveReason.fingerprint_noise,
        actor="cli",
    )
    mine = await flags.artist_flags(world.runtime, BOB)
    assert [f.id for f in mine] == [newer, older]
    assert [f.status for f in mine] == [FlagStatus.open, FlagStatus.violation]
    assert await flags.artist_flags(world.runtime, "did:plc:nobody") == []
    async with world.runtime.sessions() as db:
        assert await db.scalar(select(func.count()).select_from(ModerationFlag)) == 4


async def test_deleting_a_work_restores_the_tracks_only_it_held_down(world: World) -> None:
    first, second = await world.work("one"), await world.work("two")
    alone = await world.track(BOB, "alone")
    both = await world.track(BOB, "both")
    flag_ids = [
        await world.flag(alone, work_id=first, score=90),
        await world.flag(both, work_id=first, score=90),
        await world.flag(both, work_id=second, score=90),
    ]
    await flags.resolve(world.runtime, flag_ids, decision="violation", actor="cli")
    await references.delete_work(world.runtime, first, actor="cli")
    assert not await world.taken_down(alone)
    assert await world.taken_down(both)  # the other work's violation still holds it
    page, total = await flags.list_flags(world.runtime, status=None)
    assert [f.id for f in page] == [flag_ids[2]]
    assert total == 1
