"""The likes and plays tables: what listeners did, drawn by track popularity."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

from plyr.atproto.tid import tid_from_time
from plyr.db.models import Like, Play, RecordState
from support.catalogue.draws import between, cumulative, pick, zipf_weights
from support.catalogue.names import words
from support.catalogue.records import NAMESPACE, fake_cid
from support.catalogue.state import Catalogue, TableRows, table_of


def likes(catalogue: Catalogue) -> TableRows:
    rng = catalogue.rng
    # Some listeners like a lot, most a little.
    likers = list(range(len(catalogue.dids)))
    rng.shuffle(likers)
    liker_cum = cumulative(zipf_weights(len(likers), 0.6))
    seen: set[tuple[int, int]] = set()
    rows: list[tuple[Any, ...]] = []
    while len(rows) < catalogue.sizes["likes"]:
        liker = likers[pick(rng, liker_cum)]
        track = pick(rng, catalogue.track_pop_cum)
        if (liker, track) in seen:
            continue
        seen.add((liker, track))
        did = catalogue.dids[liker]
        created = between(rng, catalogue.track_created[track], catalogue.now)
        rkey = tid_from_time(created, len(rows) % 1024)
        like_id = len(rows) + 1
        rows.append(
            (
                like_id,
                did,
                track + 1,
                catalogue.track_cid[track],
                rkey,
                f"at://{did}/{NAMESPACE}.like/{rkey}",
                fake_cid("like", like_id),
                RecordState.published.value,
                None,
                1,
                created,
            )
        )
    columns = words(
        "id did track_id subject_cid rkey atproto_uri atproto_cid record_state record_error "
        "sync_version created_at"
    )
    return TableRows(table_of(Like), columns, rows, len(rows))


def plays(catalogue: Catalogue) -> TableRows:
    """The plays `plan.plan_tracks` drew, as rows made while they are written."""
    rng = catalogue.rng
    window_start = catalogue.now - timedelta(days=90)

    def rows() -> Iterator[tuple[Any, ...]]:
        for index, track in enumerate(catalogue.play_tracks):
            start = max(window_start, catalogue.track_created[track])
            duration_ms = catalogue.track_duration[track] * 1000
            yield (
                index + 1,
                track + 1,
                catalogue.dids[rng.randrange(len(catalogue.dids))] if rng.random() < 0.7 else None,
                f"{rng.getrandbits(128):032x}",
                rng.randint(min(30_000, duration_ms), duration_ms),
                between(rng, start, catalogue.now),
            )

    columns = ["id", "track_id", "listener_did", "listen_id", "listened_ms", "created_at"]
    return TableRows(table_of(Play), columns, rows(), len(catalogue.play_tracks))
