"""Checking social records: wait for a record in the PDS, validated; list items; preferences."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from plyr.atproto.devnet import Network
from plyr.db.models import Preferences
from tests.support.plyr_server import PlyrServer
from tests.support.plyr_users import public_record

ALBUM = "field notes"


def ref(track: dict[str, Any]) -> dict[str, str]:
    """The strong reference (uri and cid) that records use for a track."""
    return {"uri": track["uri"], "cid": track["cid"]}


def items_of(record: dict[str, Any]) -> list[dict[str, str]]:
    """The track references of a list record, in order."""
    return [item["subject"] for item in record["value"]["items"]]


async def record_when(
    plyr: PlyrServer,
    net: Network,
    uri: str,
    check: Callable[[dict[str, Any]], bool] = lambda _: True,
    *,
    seconds: float = 30,
) -> dict[str, Any]:
    """Poll the PDS until the record exists and passes `check`; validate it."""
    record = None
    try:
        async with asyncio.timeout(seconds):
            while True:
                record = await public_record(net, uri)
                if record is not None and check(record):
                    break
                await asyncio.sleep(0.1)
    except TimeoutError:
        raise AssertionError(f"{uri} never matched; last seen: {record}") from None
    collection = uri.split("/")[3]
    plyr.runtime.lexicons.validate_record(collection, record["value"])
    return record


async def gone(net: Network, uri: str, seconds: float = 30) -> None:
    """Poll the PDS until the record is deleted."""
    async with asyncio.timeout(seconds):
        while True:
            if await public_record(net, uri) is None:
                return
            await asyncio.sleep(0.1)


async def set_preferences(plyr: PlyrServer, did: str, **values: Any) -> None:
    """Until the preferences page exists: write the row directly."""
    async with plyr.runtime.sessions() as db:
        row = await db.get(Preferences, did)
        if row is None:
            db.add(Preferences(did=did, **values))
        else:
            for name, value in values.items():
                setattr(row, name, value)
        await db.commit()
