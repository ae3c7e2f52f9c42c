"""did:plc operations: read a DID's last operation, build the next one, sign it, submit it.

An operation is `{type: "plc_operation", rotationKeys, verificationMethods, alsoKnownAs,
services, prev, sig}`. `prev` is the CID (dag-cbor, SHA-256) of the previous *signed*
operation; `sig` is the base64url (unpadded) low-S signature, by one of the previous
operation's rotation keys, of the DAG-CBOR bytes of the operation without `sig`.
"""

from __future__ import annotations

import base64
from typing import Any

import httpx

from plyr.atproto import dagcbor
from plyr.atproto.signatures import SigningKey

OPERATION_TYPE = "plc_operation"


class PlcError(RuntimeError):
    """The directory refused or could not answer (a one-line reason)."""


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def operation_cid(operation: dict[str, Any]) -> str:
    """The CID the directory gives a (signed) operation: what the next one's `prev` names."""
    return dagcbor.cid_for_bytes(dagcbor.encode_ipld(operation), "dag-cbor")


def sign_operation(unsigned: dict[str, Any], rotation_key: SigningKey) -> dict[str, Any]:
    body = {key: value for key, value in unsigned.items() if key != "sig"}
    signature = rotation_key.sign(dagcbor.encode_ipld(body))
    return {**body, "sig": _b64url(signature)}


def next_operation(
    last: dict[str, Any],
    *,
    verification_methods: dict[str, str] | None = None,
    services: dict[str, dict[str, str]] | None = None,
) -> dict[str, Any]:
    """The unsigned operation after `last`: its fields, with these methods and services
    added or replaced (the others kept as they are)."""
    if last.get("type") != OPERATION_TYPE:
        raise PlcError(f"the last operation is {last.get('type')!r}, not a plc_operation")
    return {
        "type": OPERATION_TYPE,
        "rotationKeys": list(last.get("rotationKeys") or []),
        "verificationMethods": {
            **dict(last.get("verificationMethods") or {}),
            **(verification_methods or {}),
        },
        "alsoKnownAs": list(last.get("alsoKnownAs") or []),
        "services": {**dict(last.get("services") or {}), **(services or {})},
        "prev": operation_cid(last),
    }


async def last_operation(http: httpx.AsyncClient, plc_url: str, did: str) -> dict[str, Any]:
    response = await _call(http, "GET", f"{plc_url.rstrip('/')}/{did}/log/last")
    data = response.json()
    if not isinstance(data, dict):
        raise PlcError(f"{did}: the directory's last operation is not an object")
    return data


async def document(http: httpx.AsyncClient, plc_url: str, did: str) -> dict[str, Any]:
    response = await _call(http, "GET", f"{plc_url.rstrip('/')}/{did}")
    data = response.json()
    if not isinstance(data, dict):
        raise PlcError(f"{did}: the DID document is not an object")
    return data


async def submit(
    http: httpx.AsyncClient, plc_url: str, did: str, operation: dict[str, Any]
) -> None:
    await _call(http, "POST", f"{plc_url.rstrip('/')}/{did}", json=operation)


async def _call(
    http: httpx.AsyncClient, method: str, url: str, json: dict[str, Any] | None = None
) -> httpx.Response:
    try:
        response = await http.request(method, url, json=json)
    except httpx.HTTPError as exc:
        raise PlcError(f"cannot reach the PLC directory at {url}: {exc}") from exc
    if not response.is_success:
        try:
            message = response.json().get("message") or response.text
        except ValueError:
            message = response.text
        raise PlcError(f"the PLC directory answered {response.status_code}: {message[:300]}")
    return response
