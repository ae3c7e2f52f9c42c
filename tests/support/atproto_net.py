"""The local ATProto network (reference PLC + PDS) for tests: started once per session."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from plyr.atproto.devnet import Network, network_from_env, start_network

TEST_ACCOUNTS = (
    ("alice.test", "alice-test-password"),
    ("bob.test", "bob-test-password"),
    ("carol.test", "carol-test-password"),
)
# Small, so tests can pass the PDS's blob limit without megabytes of audio.
TEST_BLOB_LIMIT = 2 * 1024 * 1024


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def running_network(data_dir: Path) -> Iterator[Network]:
    """Reuse the network named by PLYR_TEST_ATPROTO_NET, or start one on free ports."""
    reused = network_from_env()
    if reused is not None:
        yield reused
        return
    network = start_network(
        data_dir,
        plc_port=_free_port(),
        pds_port=_free_port(),
        accounts=TEST_ACCOUNTS,
        blob_limit=TEST_BLOB_LIMIT,
    )
    try:
        yield network
    finally:
        network.stop()
