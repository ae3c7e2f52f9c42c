"""DID -> DID document: did:plc from the PLC directory, did:web from its own host.

A did:web document lives at `https://<host>/.well-known/did.json`; atproto allows no path.
"""

from __future__ import annotations

import json

from plyr.atproto.identity.document import DidDocument, parse_did_document
from plyr.atproto.identity.errors import (
    DidNotFound,
    IdentityUnavailable,
    InvalidDid,
    InvalidDidDocument,
    preview,
)
from plyr.atproto.identity.fetching import IdentityFetcher
from plyr.atproto.netguard import ResponseTooLarge
from plyr.atproto.syntax import InvalidSyntax, did_web_host, ensure_did, ensure_did_plc

__all__ = [
    "DidResolver",
]


class DidResolver:
    """DID -> DID document: did:plc from the PLC directory, did:web from its host."""

    def __init__(
        self, fetcher: IdentityFetcher, *, plc_url: str, max_bytes: int, dev_network: bool
    ) -> None:
        self._fetcher = fetcher
        self._plc_url = plc_url
        self._max_bytes = max_bytes
        self._dev_network = dev_network

    def check(self, value: object) -> str:
        """The DID, if plyr can resolve it (did:plc or did:web); InvalidDid otherwise."""
        try:
            did = ensure_did(value)
            if did.startswith("did:plc:"):
                return ensure_did_plc(did)
            if did.startswith("did:web:"):
                host = did_web_host(did)
                if ":" in host and not self._dev_network:
                    raise InvalidDid(f"{did} names a port, allowed only on a development network")
                return did
        except InvalidSyntax as exc:
            raise InvalidDid(f"{preview(value)} is not a valid DID: {exc.reason}") from None
        raise InvalidDid(f"{did} uses a DID method atproto does not support (only plc and web)")

    async def fetch_document(self, did: str) -> DidDocument:
        """The document of a (checked) DID, fetched and parsed; no cache."""
        if did.startswith("did:plc:"):
            url = f"{self._plc_url}/{did}"
        else:
            host = did_web_host(did)
            # A local did:web server has no certificate; plain http only for localhost on
            # the development network (a port is refused elsewhere, see `check`).
            local = self._dev_network and host.split(":", 1)[0] == "localhost"
            url = f"{'http' if local else 'https'}://{host}/.well-known/did.json"
        try:
            response = await self._fetcher.get(url, self._max_bytes, {"Accept": "application/json"})
        except ResponseTooLarge:
            raise InvalidDidDocument(
                f"the DID document of {did} is larger than {self._max_bytes} bytes"
            ) from None
        if response.status_code == 404:
            raise DidNotFound(f"no DID document exists for {did}")
        if response.status_code == 410:
            raise DidNotFound(f"the DID {did} has been deactivated or deleted")
        if response.status_code >= 500 or response.status_code == 429:
            raise IdentityUnavailable(f"{url} answered {response.status_code}; try again later")
        if response.status_code != 200:
            raise DidNotFound(f"no DID document for {did} ({url} answered {response.status_code})")
        try:
            data = json.loads(response.content)
        except ValueError:
            raise InvalidDidDocument(f"the DID document of {did} is not valid JSON") from None
        return parse_did_document(did, data, allow_http_pds=self._dev_network)
