"""The lists and list_items tables: the planned albums, then playlists of popular tracks."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from plyr.atproto.tid import tid_from_time
from plyr.db.models import ListItem, ListType, MusicList, RecordState
from support.catalogue.draws import between, pick
from support.catalogue.names import words
from support.catalogue.records import NAMESPACE, fake_cid
from support.catalogue.state import Catalogue, TableRows, table_of


def lists(
    catalogue: Catalogue, albums: list[tuple[int, str, list[int]]]
) -> tuple[TableRows, TableRows]:
    rng = catalogue.rng
    list_rows: list[tuple[Any, ...]] = []
    items: list[tuple[Any, ...]] = []
    item_id = 0

    def add_list(
        artist: int, kind: ListType, name: str, key: str | None, tracks: list[int]
    ) -> None:
        nonlocal item_id
        list_id = len(list_rows) + 1
        did = catalogue.dids[artist]
        latest = max(catalogue.track_created[t] for t in tracks)
        created = between(rng, latest, min(latest + timedelta(days=30), catalogue.now))
        rkey = tid_from_time(created, list_id % 1024)
        list_rows.append(
            (
                list_id,
                did,
                kind.value,
                name,
                key,
                None,
                None,
                None,
                rkey,
                f"at://{did}/{NAMESPACE}.list/{rkey}",
                fake_cid("list", list_id),
                RecordState.published.value,
                None,
                1,
                created,
                created,
            )
        )
        for position, track in enumerate(tracks):
            item_id += 1
            items.append(
                (
                    item_id,
                    list_id,
                    position,
                    catalogue.track_uri[track],
                    catalogue.track_cid[track],
                    track + 1,
                )
            )

    for artist, name, tracks in albums:
        add_list(artist, ListType.album, name, " ".join(name.casefold().split()), tracks)
    for _ in range(catalogue.sizes["playlists"]):
        owner = rng.randrange(len(catalogue.dids))
        size = rng.randint(5, 30)
        tracks = list(dict.fromkeys(pick(rng, catalogue.track_pop_cum) for _ in range(size)))
        add_list(owner, ListType.playlist, catalogue.names.title().lower(), None, tracks)
    columns = words(
        "id did list_type name unique_key description image_key thumbnail_key rkey "
        "atproto_uri atproto_cid record_state record_error sync_version created_at updated_at"
    )
    item_columns = ["id", "list_id", "position", "subject_uri", "subject_cid", "track_id"]
    return (
        TableRows(table_of(MusicList), columns, list_rows, len(list_rows)),
        TableRows(table_of(ListItem), item_columns, items, len(items)),
    )
