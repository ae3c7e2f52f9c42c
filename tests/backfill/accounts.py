"""Accounts made for one backfill test on the local PDS (their repos hold only what the
test writes), written to as another client would, and identities changed in the PLC
directory with a recovery key the test holds."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import httpx

from plyr.atproto import plc
from plyr.atproto.devnet import Network
from plyr.atproto.repo import RepoClient
from plyr.atproto.signatures import SigningKey
from plyr.atproto.xrpc import PasswordSession, XrpcClient


@dataclass(frozen=True)
class Account:
    handle: str
    did: str
    password: str
    recovery: SigningKey


async def create_account(net: Network, prefix: str) -> Account:
    """A fresh account whose PLC rotation keys include one the test holds."""
    handle = f"{prefix}{secrets.token_hex(4)}.test"
    password = secrets.token_urlsafe(12)
    recovery = SigningKey.generate("secp256k1")
    async with httpx.AsyncClient(timeout=30) as http:
        response = await http.post(
            f"{net.pds_url}/xrpc/com.atproto.server.createAccount",
            json={
                "handle": handle,
                "password": password,
                "email": f"{handle}@example.com",
                "recoveryKey": recovery.did_key(),
            },
        )
    assert response.status_code == 200, response.text
    return Account(handle, response.json()["did"], password, recovery)


@asynccontextmanager
async def repo_of(net: Network, account: Account) -> AsyncIterator[RepoClient]:
    """The account's repository written to directly (no lexicon check: a careless client)."""
    async with httpx.AsyncClient(timeout=30) as http:
        session = await PasswordSession.create(http, net.pds_url, account.handle, account.password)
        yield RepoClient(XrpcClient(http, net.pds_url, session), session.did)


async def put_unvalidated(
    repo: RepoClient, collection: str, rkey: str, value: dict[str, object]
) -> None:
    await repo.xrpc.procedure(
        "com.atproto.repo.putRecord",
        {
            "repo": repo.did,
            "collection": collection,
            "rkey": rkey,
            "validate": False,
            "record": {"$type": collection, **value},
        },
    )


async def change_identity(
    net: Network,
    account: Account,
    *,
    signing_key: str | None = None,
    pds_url: str | None = None,
) -> None:
    """A new PLC operation for the account: another #atproto key and/or another PDS."""
    async with httpx.AsyncClient(timeout=30) as http:
        last = await plc.last_operation(http, net.plc_url, account.did)
        unsigned = plc.next_operation(
            last,
            verification_methods={"atproto": signing_key} if signing_key else None,
            services=(
                {"atproto_pds": {"type": "AtprotoPersonalDataServer", "endpoint": pds_url}}
                if pds_url
                else None
            ),
        )
        await plc.submit(
            http, net.plc_url, account.did, plc.sign_operation(unsigned, account.recovery)
        )


async def deactivate(net: Network, account: Account) -> None:
    async with repo_of(net, account) as repo:
        await repo.xrpc.procedure("com.atproto.server.deactivateAccount", {})
