"""A local network whose PDS resolves lexicons (the `include:` scopes of OAuth).

The reference PDS finds a permission set through DNS `_lexicon.<authority>`, or, when
`PDS_LEXICON_AUTHORITY_DID` is set, in that one account's repository for every NSID.
The account must exist before the PDS starts, so the network starts twice on the same
data folder (the PLC directory keeps its operations there): once to create the
accounts, once with the authority set (atproto-net/launch.mjs reads
PLYR_DEVNET_LEXICON_AUTHORITY). Documents are then published into that account's
repository as `com.atproto.lexicon.schema` records, as `plyr lexicons publish` does.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from plyr.atproto.devnet import Network, start_network
from plyr.atproto.lexicon.publishing import Published, publish_documents
from plyr.atproto.repo import RepoClient
from plyr.atproto.xrpc import PasswordSession, XrpcClient
from tests.support.atproto_net import TEST_ACCOUNTS, TEST_BLOB_LIMIT
from tests.support.ports import free_port

AUTHORITY = ("lexicons.test", "lexicons-test-password")
AUTHORITY_ENV = "PLYR_DEVNET_LEXICON_AUTHORITY"


@contextmanager
def network_resolving_lexicons(data_dir: Path) -> Iterator[Network]:
    """PLC + PDS with TEST_ACCOUNTS and `lexicons.test`, the lexicon authority of every NSID."""
    plc_port, pds_port = free_port(), free_port()
    accounts = (*TEST_ACCOUNTS, AUTHORITY)

    def start() -> Network:
        return start_network(
            data_dir,
            plc_port=plc_port,
            pds_port=pds_port,
            accounts=accounts,
            blob_limit=TEST_BLOB_LIMIT,
        )

    first = start()
    authority = first.account(AUTHORITY[0]).did
    first.stop()
    previous = os.environ.get(AUTHORITY_ENV)
    os.environ[AUTHORITY_ENV] = authority
    try:
        network = start()
    finally:
        if previous is None:
            del os.environ[AUTHORITY_ENV]
        else:
            os.environ[AUTHORITY_ENV] = previous
    try:
        yield network
    finally:
        network.stop()


async def publish(net: Network, documents: Iterable[dict[str, Any]]) -> list[Published]:
    """Publish documents into the authority's repository (what the CLI does)."""
    handle, password = AUTHORITY
    async with httpx.AsyncClient(timeout=30) as http:
        session = await PasswordSession.create(http, net.pds_url, handle, password)
        repo = RepoClient(XrpcClient(http, net.pds_url, session), session.did)
        return await publish_documents(repo, documents)
