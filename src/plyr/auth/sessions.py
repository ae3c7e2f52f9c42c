"""Server-side sessions: browser sign-ins and developer tokens, each its own OAuth grant.

The secret the user holds (cookie value or `plyr_…` token) is never stored: rows are keyed
by its SHA-256. Tokens and the DPoP key are sealed with the settings' secret key.
Access tokens are refreshed before they expire, one refresh at a time per session, across
processes too (a lease on the row).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import secrets
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from joserfc.jwk import ECKey
from sqlalchemy import delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from plyr.atproto.repo import RepoClient
from plyr.atproto.xrpc import DPoPAuth, XrpcClient
from plyr.auth import oauth
from plyr.auth.client import OAuthClient
from plyr.auth.encryption import SecretsUnreadable, open_sealed, seal
from plyr.db.models import AuthSession, SessionKind, utcnow
from plyr.runtime import Runtime

log = logging.getLogger(__name__)

COOKIE_NAME = "plyr_session"
TOKEN_PREFIX = "plyr_"  # noqa: S105 - a prefix, not a secret
REFRESH_MARGIN = timedelta(seconds=60)
REFRESH_LEASE = timedelta(seconds=30)
TOUCH_EVERY = timedelta(minutes=5)


class SessionEnded(Exception):
    """The session is gone, expired, or its grant was revoked: sign in again."""


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def new_secret(kind: SessionKind) -> str:
    raw = secrets.token_urlsafe(32)
    return f"{TOKEN_PREFIX}{raw}" if kind == SessionKind.dev_token else raw


def csrf_token(secret_key: bytes, session_id: str) -> str:
    """A per-session token forms and scripts send back with every mutation."""
    return hmac.new(secret_key, f"csrf:{session_id}".encode(), hashlib.sha256).hexdigest()[:40]


@dataclass(frozen=True, slots=True)
class Grant:
    """What a session holds, decrypted."""

    access_token: str
    refresh_token: str | None
    dpop_key: ECKey


def _seal_grant(runtime: Runtime, grant: Grant) -> bytes:
    return seal(
        runtime.settings.secret_key_bytes(),
        {
            "access_token": grant.access_token,
            "refresh_token": grant.refresh_token,
            "dpop_key": grant.dpop_key.as_dict(private=True),
        },
    )


def _open_grant(runtime: Runtime, sealed: bytes) -> Grant:
    data = open_sealed(runtime.settings.secret_key_bytes(), sealed)
    return Grant(
        data["access_token"], data.get("refresh_token"), ECKey.import_key(data["dpop_key"])
    )


def _at(unix_time: float) -> datetime:
    return datetime.fromtimestamp(unix_time, UTC)


async def create_session(
    runtime: Runtime,
    *,
    kind: SessionKind,
    tokens: oauth.TokenSet,
    server: oauth.AuthServer,
    pds_url: str,
    dpop_key: ECKey,
    name: str | None = None,
    lifetime: timedelta | None,
) -> str:
    """Store a new session and return the secret to hand to the user (once)."""
    secret = new_secret(kind)
    grant = Grant(tokens.access_token, tokens.refresh_token, dpop_key)
    async with runtime.sessions() as db:
        db.add(
            AuthSession(
                id=hash_secret(secret),
                kind=kind,
                did=tokens.sub,
                name=name,
                token_hint=f"{secret[:9]}…" if kind == SessionKind.dev_token else None,
                issuer=server.issuer,
                pds_url=pds_url,
                scope=tokens.scope,
                secrets=_seal_grant(runtime, grant),
                access_expires_at=_at(tokens.expires_at),
                expires_at=utcnow() + lifetime if lifetime else None,
            )
        )
        await db.commit()
    return secret


async def find_session(runtime: Runtime, secret: str) -> AuthSession | None:
    """The live session for a cookie or token, or None (unknown, expired)."""
    if not secret or len(secret) > 200:
        return None
    now = utcnow()
    async with runtime.sessions() as db:
        row = await db.get(AuthSession, hash_secret(secret))
        if row is None:
            return None
        if row.expires_at is not None and row.expires_at <= now:
            await db.delete(row)
            await db.commit()
            return None
        if now - row.last_used_at > TOUCH_EVERY:
            row.last_used_at = now
            await db.commit()
        db.expunge(row)
        return row


_local_locks: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()


def _lock_for(session_id: str) -> asyncio.Lock:
    lock = _local_locks.get(session_id)
    if lock is None:
        lock = asyncio.Lock()
        _local_locks[session_id] = lock
    return lock


async def fresh_grant(
    runtime: Runtime, session_id: str, *, stale_access_token: str | None = None
) -> Grant:
    """The session's grant with an access token good for a while; refreshed if needed.

    `stale_access_token`: a token the PDS just refused; refresh unless someone already did.
    Only one refresh runs per session: in this process a lock, across processes a lease
    on the row (others wait for it and read the new tokens).
    """
    async with _lock_for(session_id):
        deadline = time.monotonic() + REFRESH_LEASE.total_seconds() + 5
        while True:
            now = utcnow()
            async with runtime.sessions() as db:
                row = await db.get(AuthSession, session_id)
                if row is None:
                    raise SessionEnded("this session has ended")
                try:
                    grant = _open_grant(runtime, row.secrets)
                except SecretsUnreadable as exc:
                    raise SessionEnded("this session can no longer be read") from exc
                needs = row.access_expires_at - now < REFRESH_MARGIN or (
                    stale_access_token is not None and grant.access_token == stale_access_token
                )
                if not needs:
                    return grant
                if grant.refresh_token is None:
                    raise SessionEnded("this session cannot be refreshed")
                taken = await db.execute(
                    update(AuthSession)
                    .where(
                        AuthSession.id == session_id,
                        or_(
                            AuthSession.refresh_locked_until.is_(None),
                            AuthSession.refresh_locked_until < now,
                        ),
                    )
                    .values(refresh_locked_until=now + REFRESH_LEASE)
                    .execution_options(synchronize_session=False)
                )
                await db.commit()
                issuer, pds_url = row.issuer, row.pds_url
            if taken.rowcount == 1:  # type: ignore[attr-defined]
                break
            if time.monotonic() > deadline:
                raise SessionEnded("the session's refresh did not finish; sign in again")
            await asyncio.sleep(0.1)  # another process is refreshing: read its result

        try:
            client = OAuthClient(runtime.settings)
            server = await oauth.authorization_server(runtime.http, issuer)
            assert grant.refresh_token is not None
            try:
                tokens = await oauth.refresh(
                    client,
                    runtime.http,
                    server=server,
                    refresh_token=grant.refresh_token,
                    dpop_key=grant.dpop_key,
                )
            except oauth.InvalidGrant as exc:
                await end_session(runtime, session_id, revoke=False)
                raise SessionEnded(exc.message) from exc
            new = Grant(
                tokens.access_token, tokens.refresh_token or grant.refresh_token, grant.dpop_key
            )
            async with runtime.sessions() as db:
                await db.execute(
                    update(AuthSession)
                    .where(AuthSession.id == session_id)
                    .values(
                        secrets=_seal_grant(runtime, new),
                        access_expires_at=_at(tokens.expires_at),
                        refresh_locked_until=None,
                        **({"scope": tokens.scope} if tokens.scope else {}),
                    )
                    .execution_options(synchronize_session=False)
                )
                await db.commit()
            log.info("refreshed the tokens of a session", extra={"pds": pds_url})
            return new
        finally:
            async with runtime.sessions() as db:
                await db.execute(
                    update(AuthSession)
                    .where(AuthSession.id == session_id)
                    .values(refresh_locked_until=None)
                    .execution_options(synchronize_session=False)
                )
                await db.commit()


async def repo_for(runtime: Runtime, session: AuthSession) -> RepoClient:
    """A client for the signed-in user's repository, with DPoP-bound, self-refreshing tokens."""
    grant = await fresh_grant(runtime, session.id)
    auth = DPoPAuth(grant.access_token, grant.dpop_key, nonces=oauth.NONCES)

    async def refreshed() -> str:
        nonlocal grant
        grant = await fresh_grant(runtime, session.id, stale_access_token=auth.access_token)
        return grant.access_token

    auth.refresh = refreshed
    xrpc = XrpcClient(runtime.http, session.pds_url, auth)
    return RepoClient(xrpc, session.did, validator=runtime.lexicons.validate_record)


async def end_session(runtime: Runtime, session_id: str, *, revoke: bool = True) -> bool:
    """Delete a session (and revoke its refresh token at the server when asked)."""
    async with runtime.sessions() as db:
        row = await db.get(AuthSession, session_id)
        if row is None:
            return False
        sealed, issuer = row.secrets, row.issuer
        await db.delete(row)
        await db.commit()
    if revoke:
        try:
            grant = _open_grant(runtime, sealed)
            server = await oauth.authorization_server(runtime.http, issuer)
            client = OAuthClient(runtime.settings)
            for token in (grant.refresh_token, grant.access_token):
                if token:
                    await oauth.revoke(
                        client, runtime.http, server=server, token=token, dpop_key=grant.dpop_key
                    )
        except (SecretsUnreadable, oauth.OAuthError) as exc:
            log.warning("could not revoke an ended session at %s: %s", issuer, exc)
    return True


async def dev_tokens(runtime: Runtime, did: str) -> list[AuthSession]:
    async with runtime.sessions() as db:
        rows = await db.execute(
            select(AuthSession)
            .where(AuthSession.did == did, AuthSession.kind == SessionKind.dev_token)
            .order_by(AuthSession.created_at.desc())
        )
        return list(rows.scalars())


async def purge_expired(runtime: Runtime) -> int:
    async with runtime.sessions() as db:
        result = await db.execute(
            delete(AuthSession).where(
                AuthSession.expires_at.is_not(None), AuthSession.expires_at < utcnow()
            )
        )
        await db.commit()
        return int(result.rowcount)  # type: ignore[attr-defined]


def session_summary(row: AuthSession) -> dict[str, Any]:
    return {
        "id": row.id[:12],
        "name": row.name,
        "token_hint": row.token_hint,
        "created_at": row.created_at.isoformat(),
        "last_used_at": row.last_used_at.isoformat(),
        "expires_at": row.expires_at.isoformat() if row.expires_at else None,
    }


async def session_for(
    runtime: Runtime, did: str, preferred_id: str | None = None
) -> AuthSession | None:
    """A live session of `did` to act with in a job: the one that asked, else the newest."""
    now = utcnow()
    async with runtime.sessions() as db:
        if preferred_id is not None:
            row = await db.get(AuthSession, preferred_id)
            if (
                row is not None
                and row.did == did
                and (row.expires_at is None or row.expires_at > now)
            ):
                db.expunge(row)
                return row
        rows = await db.execute(
            select(AuthSession)
            .where(
                AuthSession.did == did,
                or_(AuthSession.expires_at.is_(None), AuthSession.expires_at > now),
            )
            .order_by(AuthSession.last_used_at.desc())
            .limit(1)
        )
        found = rows.scalar_one_or_none()
        if found is not None:
            db.expunge(found)
        return found


async def granted_session(
    db: AsyncSession, did: str, granted: Callable[[str | None], bool], preferred_id: str | None
) -> AuthSession | None:
    """A live session of `did` whose grant passes `granted` (e.g. holds the teal.fm or the
    Bluesky-post scopes): `preferred_id` when it qualifies, else the most recently used."""
    now = utcnow()
    rows = await db.execute(
        select(AuthSession)
        .where(
            AuthSession.did == did,
            or_(AuthSession.expires_at.is_(None), AuthSession.expires_at > now),
        )
        .order_by(AuthSession.last_used_at.desc())
    )
    qualifying = [row for row in rows.scalars() if granted(row.scope)]
    chosen = next((row for row in qualifying if row.id == preferred_id), None)
    return chosen or (qualifying[0] if qualifying else None)
