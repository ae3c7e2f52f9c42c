"""What holds a track down (`plyr.moderation.flags`), on SQLite and PostgreSQL: only a
takedown a flag made is undone by clearing flags (an operator's own stays), an appealed
former violation holds the track until decided, the artist's appeal is once even when two
arrive together, the artist's view shows nothing of the operators, and the listings' caches
are cleared after the decision commits, not before."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.orm import Session

from plyr import cache
from plyr.db.models import Artist, FalsePositiveReason, FlagStatus, Track
from plyr.errors import ServiceError
from plyr.moderation import admin, audit, flags, references, takedown
from plyr.runtime import Runtime
from tests.moderation.test_flags import ALICE, BOB, World

NOISE = FalsePositiveReason.fingerprint_noise


@pytest.fixture
async def world(runtime: Runtime) -> World:
    async with runtime.sessions() as db:
        for did, handle in ((ALICE, "alice.test"), (BOB, "bob.test")):
            db.add(Artist(did=did, handle=handle, display_name=handle, pds_url="http://pds"))
        await db.commit()
    return World(runtime)


async def _source(world: World, track_id: int) -> str | None:
    async with world.runtime.sessions() as db:
        track = await db.get(Track, track_id)
        assert track is not None
        return track.takedown_source


async def test_clearing_flags_never_undoes_an_operators_own_takedown(world: World) -> None:
    work = await world.work()
    track = await world.track(BOB, "legal notice")
    a = await world.flag(track, work_id=work, score=90)
    b = await world.flag(track, work_id=await world.work("two"), score=80)
    await takedown.take_down_track(world.runtime, track, reason="dmca notice 42", actor="cli")
    assert await _source(world, track) == "admin"

    await flags.resolve(world.runtime, [a], decision="false_positive", reason=NOISE, actor="cli")
    assert await world.taken_down(track)
    await flags.resolve(world.runtime, [b], decision="violation", actor="cli")
    await flags.reopen(world.runtime, [b], actor="cli")
    assert await world.taken_down(track)
    await references.delete_work(world.runtime, work, actor="cli")
    assert await world.taken_down(track)
    assert await world.actions(f"track:{track}") == ["track.takedown"]  # never restored

    await takedown.restore_track(world.runtime, track, actor="cli")  # only an operator's
    assert await _source(world, track) is None


async def test_a_flags_takedown_is_marked_and_undone_when_its_flags_clear(world: World) -> None:
    track = await world.track(BOB, "copy")
    flag_id = await world.flag(track, work_id=await world.work(), score=90)
    await flags.resolve(world.runtime, [flag_id], decision="violation", actor="cli")
    assert await _source(world, track) == "flag"
    [entry] = await audit.entries(world.runtime, subject=f"track:{track}", limit=1)
    assert entry.detail["source"] == "flag"
    await flags.resolve(
        world.runtime, [flag_id], decision="false_positive", reason=NOISE, actor="cli"
    )
    assert not await world.taken_down(track)
    assert await _source(world, track) is None


async def test_an_appealed_former_violation_holds_the_track_until_decided(world: World) -> None:
    track = await world.track(BOB, "medley")
    appealed = await world.flag(track, work_id=await world.work("one"), score=90)
    other = await world.flag(track, work_id=await world.work("two"), score=85)
    await flags.resolve(world.runtime, [appealed, other], decision="violation", actor="cli")
    await flags.appeal(world.runtime, appealed, did=BOB, text="the first part is mine")

    # The other violation cleared: the appealed one, open again, still holds the track.
    await flags.resolve(world.runtime, [other], decision="false_positive", reason=NOISE, actor="x")
    assert await world.taken_down(track)
    await flags.reopen(world.runtime, [other], actor="cli")
    assert await world.taken_down(track)

    await flags.resolve(
        world.runtime, [appealed], decision="false_positive", reason=NOISE, actor="cli"
    )
    assert not await world.taken_down(track)


async def test_two_appeals_at_once_make_one(world: World) -> None:
    track = await world.track(BOB, "my song")
    flag_id = await world.flag(track, work_id=await world.work(), score=88)
    await flags.resolve(world.runtime, [flag_id], decision="violation", actor="cli")

    results = await asyncio.gather(
        *(flags.appeal(world.runtime, flag_id, did=BOB, text=f"appeal {n}") for n in range(4)),
        return_exceptions=True,
    )
    made = [r for r in results if isinstance(r, flags.ArtistFlagView)]
    refused = [r for r in results if isinstance(r, ServiceError)]
    assert len(made) == 1, results
    assert [r.status for r in refused] == [409] * 3
    entries = await audit.entries(world.runtime, subject=f"flag:{flag_id}")
    assert [e.action for e in entries].count("flag.appeal") == 1
    [view] = await flags.artist_flags(world.runtime, BOB)
    assert view.appeal_text == made[0].appeal_text


async def test_someone_elses_flag_is_answered_as_an_unknown_one(world: World) -> None:
    flag_id = await world.flag(await world.track(BOB, "his"), work_id=await world.work(), score=80)
    answers = []
    for target in (flag_id, 10**12):
        with pytest.raises(ServiceError) as refused:
            await flags.appeal(world.runtime, target, did=ALICE, text="mine now")
        answers.append((refused.value.status, refused.value.code, refused.value.message))
    assert answers[0] == answers[1] == (404, "not_found", "no such flag")


async def test_the_artist_sees_nothing_of_the_operators(world: World) -> None:
    original = await world.track(ALICE, "first")
    copy = await world.track(BOB, "second", minutes=5)
    by_track = await world.flag(copy, other=original, score=90)
    by_work = await world.flag(copy, work_id=await world.work("known song"), score=70)
    await flags.resolve(
        world.runtime, [by_track], decision="violation", note="internal: ask legal", actor=ALICE
    )
    await takedown.hide_account(world.runtime, ALICE, reason="spam ring", actor="cli")

    mine = {view.id: view for view in await flags.artist_flags(world.runtime, BOB)}
    shown = repr([dataclasses.asdict(v) for v in mine.values()])
    for secret in ("internal", ALICE, "known.flac", "spam ring", "at://"):
        assert secret not in shown, secret
    assert (mine[by_track].matched_title, mine[by_track].matched_artist) == ("first", "alice")
    assert mine[by_track].track.taken_down
    assert "first" in (mine[by_track].track.takedown_reason or "")
    assert (mine[by_work].matched_title, mine[by_work].matched_rights_holder) == (
        "known song",
        "big label",
    )
    assert mine[by_work].status == FlagStatus.open


@pytest.fixture
def order() -> Iterator[list[str]]:
    """Commits and cache clears, in the order they happen."""
    seen: list[str] = []

    def committed(_session: Any) -> None:
        seen.append("commit")

    def cleared() -> None:
        seen.append("clear")

    event.listen(Session, "after_commit", committed)
    cache.on_catalogue_change(cleared)
    yield seen
    event.remove(Session, "after_commit", committed)
    cache._on_change.remove(cleared)


async def test_the_caches_are_cleared_after_the_commit(world: World, order: list[str]) -> None:
    track = await world.track(BOB, "copy")
    work = await world.work()
    flag_id = await world.flag(track, work_id=work, score=90)
    for act in (
        lambda: flags.resolve(world.runtime, [flag_id], decision="violation", actor="cli"),
        lambda: flags.reopen(world.runtime, [flag_id], actor="cli"),
        lambda: flags.resolve(world.runtime, [flag_id], decision="violation", actor="cli"),
        lambda: references.delete_work(world.runtime, work, actor="cli"),
    ):
        order.clear()
        await act()
        assert "clear" in order, act
        assert order.index("clear") > order.index("commit"), order
    assert not await world.taken_down(track)


async def test_deleting_an_original_keeps_its_copies_down_deliberately(world: World) -> None:
    original = await world.track(ALICE, "first")
    copy = await world.track(BOB, "second", minutes=5)
    other_flag = await world.flag(copy, work_id=await world.work(), score=70)
    await flags.resolve(
        world.runtime,
        [await world.flag(copy, other=original, score=95)],
        decision="violation",
        actor="cli",
    )

    dry = await admin.delete_track(world.runtime, str(original), actor="cli", dry_run=True)
    assert dry.takedowns_kept == [copy]
    assert await _source(world, copy) == "flag"  # a dry run changes nothing

    report = await admin.delete_track(world.runtime, str(original), actor="cli")
    assert report.takedowns_kept == [copy]
    assert any(f"tracks {copy}" in line and "stay taken down" in line for line in report.lines())
    [entry] = await audit.entries(world.runtime, subject=f"track:{original}", limit=1)
    assert (entry.action, entry.detail["takedowns_kept"]) == ("track.delete", [copy])
    async with world.runtime.sessions() as db:
        kept = await db.get(Track, copy)
        assert kept is not None
        assert kept.taken_down_at is not None
        assert kept.takedown_source == "admin"
        assert kept.takedown_reason is not None
        assert kept.takedown_reason.startswith("copyright: matches “first”")
        assert kept.takedown_reason.endswith(admin.ORIGINAL_GONE)
    # An unrelated flag cleared later does not bring the copy back.
    await flags.resolve(
        world.runtime, [other_flag], decision="false_positive", reason=NOISE, actor="cli"
    )
    assert await world.taken_down(copy)


async def test_a_fingerprint_file_of_too_many_works_is_refused(
    world: World, tmp_path: Path
) -> None:
    printed = tmp_path / "catalogue.txt"
    entry = "DURATION=30\nFINGERPRINT=" + ",".join(str(n * 7919) for n in range(120))
    works = references.MAX_WORKS_PER_FILE + 1
    printed.write_text("\n\n".join(f"FILE=w{n}.mp3\n{entry}" for n in range(works)) + "\n")
    with pytest.raises(ServiceError) as refused:
        await references.import_file(
            world.runtime, printed, filename="catalogue.txt", artist="x", actor="cli"
        )
    assert refused.value.status == 422
    assert f"holds {works} works: at most {references.MAX_WORKS_PER_FILE}" in refused.value.message
    assert (await references.list_works(world.runtime))[1] == 0
