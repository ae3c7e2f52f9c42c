"""The labeler's identity on the development network, made by `serve --devnet` (and tests).

1. An account on the local PDS (`labeler.test`) created with a `recoveryKey` plyr holds, so
   the DID's rotation keys include one plyr can sign PLC operations with.
2. A PLC operation adding `verificationMethods.atproto_label` (the label key) and
   `services.atproto_labeler` (plyr's public URL), built and signed here, sent when the DID
   document does not already say so (a restart on another port sends a new one).
3. The `app.bsky.labeler.service` record (rkey `self`), written through a password session
   with the PDS validating it, rewritten only when its contents changed.

What was made is kept in `<data>/labeler-devnet.json` (0600); a restart reuses it while the
local PLC still knows the DID.
"""

from __future__ import annotations

import logging
import secrets
from typing import Any

import httpx

from plyr.atproto import plc
from plyr.atproto.repo import RepoClient
from plyr.atproto.signatures import SigningKey
from plyr.atproto.xrpc import InvalidRequest, PasswordSession, XrpcClient
from plyr.config import Settings
from plyr.moderation import labeler

log = logging.getLogger(__name__)

DEFAULT_HANDLE = "labeler.test"


async def ensure_devnet_labeler(
    settings: Settings,
    *,
    pds_url: str,
    plc_url: str,
    handle: str = DEFAULT_HANDLE,
    public_url: str | None = None,
) -> labeler.DevnetState:
    """Make (or reuse) the labeler's DID, DID document entries and service record."""
    endpoint = (public_url or settings.public_url).rstrip("/")
    key = labeler.signing_key(settings)
    async with httpx.AsyncClient(timeout=15.0) as http:
        state = labeler.read_devnet_state(settings)
        if state is not None and not await _known(http, plc_url, state.did):
            log.info("the local PLC forgot %s: making the labeler again", state.did)
            state = None
        if state is None:
            state = await _create_account(http, pds_url, plc_url, handle)
            labeler.write_devnet_state(settings, state)
        await ensure_document(http, plc_url, state.did, state.rotation_key(), key, endpoint)
        await ensure_service_record(http, state)
    return state


async def _known(http: httpx.AsyncClient, plc_url: str, did: str) -> bool:
    try:
        await plc.document(http, plc_url, did)
    except plc.PlcError:
        return False
    return True


async def _create_account(
    http: httpx.AsyncClient, pds_url: str, plc_url: str, handle: str
) -> labeler.DevnetState:
    rotation = SigningKey.generate("secp256k1")
    password = labeler.new_password()
    client = XrpcClient(http, pds_url)
    body = {
        "handle": handle,
        "password": password,
        "email": f"{handle.replace('.', '-')}@example.com",
        "recoveryKey": rotation.did_key(),
    }
    try:
        made = await client.procedure("com.atproto.server.createAccount", body)
    except InvalidRequest as exc:
        if exc.error != "HandleNotAvailable":
            raise
        # Taken by a labeler whose state file is gone: a fresh handle beside it.
        first, _, rest = handle.partition(".")
        body["handle"] = f"{first}-{secrets.token_hex(3)}.{rest}"
        made = await client.procedure("com.atproto.server.createAccount", body)
    return labeler.DevnetState(
        did=str(made["did"]),
        handle=str(made["handle"]),
        password=password,
        rotation_key_hex=rotation.private_bytes().hex(),
        pds_url=pds_url,
        plc_url=plc_url,
    )


def labeler_changes(key: SigningKey, endpoint: str) -> dict[str, Any]:
    """The verification method and service a labeler's DID document must carry."""
    return {
        "verification_methods": {labeler.LABEL_METHOD: key.did_key()},
        "services": {
            labeler.LABELER_SERVICE: {
                "type": labeler.LABELER_SERVICE_TYPE,
                "endpoint": endpoint,
            }
        },
    }


async def ensure_document(
    http: httpx.AsyncClient,
    plc_url: str,
    did: str,
    rotation_key: SigningKey,
    key: SigningKey,
    endpoint: str,
) -> bool:
    """Send the PLC operation when the last one lacks the key or endpoint; True if sent."""
    last = await plc.last_operation(http, plc_url, did)
    methods = last.get("verificationMethods") or {}
    service = (last.get("services") or {}).get(labeler.LABELER_SERVICE) or {}
    if methods.get(labeler.LABEL_METHOD) == key.did_key() and service.get("endpoint") == endpoint:
        return False
    operation = plc.next_operation(last, **labeler_changes(key, endpoint))
    await plc.submit(http, plc_url, did, plc.sign_operation(operation, rotation_key))
    log.info("labeler %s: DID document now names its key and %s", did, endpoint)
    return True


async def ensure_service_record(http: httpx.AsyncClient, state: labeler.DevnetState) -> None:
    session = await PasswordSession.create(http, state.pds_url, state.did, state.password)
    repo = RepoClient(XrpcClient(http, state.pds_url, session), state.did)
    existing = await repo.get_record(labeler.SERVICE_COLLECTION, labeler.SERVICE_RKEY)
    wanted = labeler.service_record()
    if existing is not None and labeler.same_service_record(existing.value, wanted):
        return
    # validate=True: the PDS checks it against app.bsky.labeler.service, which it knows.
    await repo.put_record(labeler.SERVICE_COLLECTION, labeler.SERVICE_RKEY, wanted, validate=True)
