"""Reading a user's repository on the PDS as any other client would: every record of a
collection (listRecords, paged), to check what plyr wrote there."""

from __future__ import annotations

from typing import Any

import httpx

from plyr.atproto.devnet import Network


async def list_records(net: Network, did: str, collection: str) -> dict[str, dict[str, Any]]:
    """Every record of `collection` in `did`'s repo, by at:// URI → its value."""
    found: dict[str, dict[str, Any]] = {}
    cursor: str | None = None
    async with httpx.AsyncClient(base_url=net.pds_url, timeout=30) as http:
        while True:
            params = {"repo": did, "collection": collection, "limit": "100"}
            if cursor:
                params["cursor"] = cursor
            response = await http.get("/xrpc/com.atproto.repo.listRecords", params=params)
            response.raise_for_status()
            page = response.json()
            found.update({record["uri"]: record["value"] for record in page["records"]})
            cursor = page.get("cursor")
            if not cursor or not page["records"]:
                return found
