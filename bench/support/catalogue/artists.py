"""The artists table: DIDs, handles and display names, avatars, PDS hosts."""

from __future__ import annotations

import hashlib
from base64 import b32encode
from datetime import timedelta
from typing import Any

from plyr.db.models import Artist
from support.catalogue.draws import between
from support.catalogue.records import fake_cid
from support.catalogue.state import Catalogue, TableRows, table_of

PDS_HOSTS = [
    f"https://{name}.us-{side}.host.bsky.network"
    for name in ("shiitake", "porcini", "morel", "enoki", "oyster", "chanterelle")
    for side in ("east", "west")
]


def artists(catalogue: Catalogue) -> TableRows:
    rng = catalogue.rng
    rows: list[tuple[Any, ...]] = []
    start = catalogue.now - timedelta(days=900)
    for index in range(catalogue.sizes["artists"]):
        digest = hashlib.sha256(f"{catalogue.seed}:{index}".encode()).digest()
        did = "did:plc:" + b32encode(digest).decode()[:24].lower()
        handle, display = catalogue.names.person()
        created = between(rng, start, catalogue.now - timedelta(days=1))
        avatar = (
            f"https://cdn.bsky.app/img/avatar/plain/{did}/{fake_cid('avatar', did)}@jpeg"
            if rng.random() < 0.7
            else None
        )
        catalogue.dids.append(did)
        catalogue.handles.append(handle)
        catalogue.display.append(display)
        rows.append(
            (
                did,
                handle,
                display if rng.random() < 0.9 else None,
                avatar,
                rng.choice(PDS_HOSTS),
                created,
                created,
            )
        )
    columns = ["did", "handle", "display_name", "avatar_url", "pds_url"]
    return TableRows(table_of(Artist), [*columns, "created_at", "updated_at"], rows, len(rows))
