"""DID documents (the parts atproto uses, checked) and the `Identity` they resolve to."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

from plyr.atproto.identity.errors import InvalidDidDocument
from plyr.atproto.syntax import is_valid_handle

__all__ = [
    "PDS_SERVICE_TYPE",
    "DidDocument",
    "Identity",
    "parse_did_document",
]

PDS_SERVICE_TYPE = "AtprotoPersonalDataServer"


@dataclass(frozen=True, slots=True)
class DidDocument:
    """The parts of a DID document atproto uses."""

    id: str
    also_known_as: tuple[str, ...]
    handles: tuple[str, ...]
    """The `at://` entries of alsoKnownAs that are valid handles, lowercase, in order."""
    pds_url: str
    """The `#atproto_pds` service endpoint, without a trailing slash."""
    signing_key: str | None
    """publicKeyMultibase of the `#atproto` verification method."""
    raw: Mapping[str, Any] = field(compare=False, repr=False)

    @property
    def handle(self) -> str | None:
        """The handle the document claims (the first one); verify it before trusting it."""
        return self.handles[0] if self.handles else None


@dataclass(frozen=True, slots=True)
class Identity:
    did: str
    handle: str | None
    """None when the handle does not verify both ways (shown as `handle.invalid`)."""
    pds_url: str
    document: DidDocument

    @property
    def display_handle(self) -> str:
        return self.handle or "handle.invalid"


def _fragment_matches(entry_id: object, did: str, fragment: str) -> bool:
    return entry_id in (fragment, f"{did}{fragment}")


def _pds_endpoint(did: str, value: object, *, allow_http: bool) -> str:
    if not isinstance(value, str) or not value:
        raise InvalidDidDocument(f"the DID document of {did} has a PDS endpoint that is no URL")
    try:
        url = httpx.URL(value)
    except httpx.InvalidURL:
        raise InvalidDidDocument(
            f"the DID document of {did} names a PDS that is no URL: {value[:200]!r}"
        ) from None
    schemes = ("https", "http") if allow_http else ("https",)
    if url.scheme not in schemes or not url.host:
        raise InvalidDidDocument(
            f"the DID document of {did} names a PDS that is not an https URL: {value[:200]!r}"
        )
    if url.userinfo or url.query or url.fragment:
        raise InvalidDidDocument(
            f"the DID document of {did} names a PDS URL with credentials, query or fragment"
        )
    return value.rstrip("/")


def parse_did_document(did: str, data: object, *, allow_http_pds: bool = False) -> DidDocument:
    """Check a decoded DID document belongs to `did` and pull out what atproto needs.

    Raises InvalidDidDocument. `allow_http_pds` is for the development network only.
    """
    if not isinstance(data, dict):
        raise InvalidDidDocument(f"the DID document of {did} is not a JSON object")
    if data.get("id") != did:
        raise InvalidDidDocument(
            f"the DID document served for {did} belongs to {str(data.get('id'))[:100]!r}"
        )
    aka_raw = data.get("alsoKnownAs", [])
    if not isinstance(aka_raw, list):
        raise InvalidDidDocument(f"the DID document of {did} has a malformed alsoKnownAs")
    also_known_as = tuple(entry for entry in aka_raw if isinstance(entry, str))
    handles: list[str] = []
    for entry in also_known_as:
        if entry.startswith("at://"):
            candidate = entry[len("at://") :]
            if is_valid_handle(candidate) and candidate.lower() not in handles:
                handles.append(candidate.lower())

    services = data.get("service", [])
    if not isinstance(services, list):
        raise InvalidDidDocument(f"the DID document of {did} has a malformed service list")
    pds_url: str | None = None
    for service in services:
        if (
            isinstance(service, dict)
            and _fragment_matches(service.get("id"), did, "#atproto_pds")
            and service.get("type") == PDS_SERVICE_TYPE
        ):
            pds_url = _pds_endpoint(did, service.get("serviceEndpoint"), allow_http=allow_http_pds)
            break
    if pds_url is None:
        raise InvalidDidDocument(
            f"the DID document of {did} names no PDS (no #atproto_pds service)"
        )

    methods = data.get("verificationMethod", [])
    signing_key: str | None = None
    if isinstance(methods, list):
        for method in methods:
            if isinstance(method, dict) and _fragment_matches(method.get("id"), did, "#atproto"):
                key = method.get("publicKeyMultibase")
                signing_key = key if isinstance(key, str) and key else None
                break

    return DidDocument(
        id=did,
        also_known_as=also_known_as,
        handles=tuple(handles),
        pds_url=pds_url,
        signing_key=signing_key,
        raw=data,
    )
