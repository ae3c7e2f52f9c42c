"""Helpers of the identity tests (tests/test_identity_*.py): settings, documents, servers.

The reference PLC directory and PDS answer for the accounts alice.test, bob.test and
carol.test. Handles and did:web documents the network cannot express (a handle that
points at someone else's DID, a document without a PDS, a server that never answers)
come from `LocalServer`, reached through the resolver's development-network hooks.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from plyr.config import Settings
from tests.conftest import make_settings
from tests.support.local_http import LocalServer

DB = "sqlite+aiosqlite:///:memory:"
WELL_KNOWN_DID = "/.well-known/atproto-did"
DID_JSON = "/.well-known/did.json"
UNKNOWN_PLC = "did:plc:" + "a" * 24


def settings_for(tmp_path: Path, plc_url: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "plc_url": plc_url,
        "atproto_dev_network": True,
        "identity_timeout_seconds": 3.0,
    }
    values.update(overrides)
    return make_settings(tmp_path, DB, **values)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def did_web(server: LocalServer) -> str:
    return f"did:web:localhost%3A{server.port}"


def document(
    did: str,
    handles: list[str],
    *,
    pds: str | None = "http://localhost:2583",
    service_id: str = "#atproto_pds",
) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "@context": ["https://www.w3.org/ns/did/v1"],
        "id": did,
        "alsoKnownAs": [f"at://{handle}" for handle in handles],
        "verificationMethod": [
            {
                "id": f"{did}#atproto",
                "type": "Multikey",
                "controller": did,
                "publicKeyMultibase": "zQ3shXjHeiBuRCKmM36cuYnm7YEMzhGnCmCyW92sRJ9pribSF",
            }
        ],
        "service": [],
    }
    if pds is not None:
        doc["service"].append(
            {"id": service_id, "type": "AtprotoPersonalDataServer", "serviceEndpoint": pds}
        )
    return doc


def serve_document(server: LocalServer, doc: dict[str, Any]) -> None:
    server.route(
        DID_JSON, body=json.dumps(doc).encode(), headers={"Content-Type": "application/json"}
    )


def serve_handle(server: LocalServer, handle: str, did: str) -> None:
    server.route(WELL_KNOWN_DID, host=handle, body=f"{did}\n".encode())
