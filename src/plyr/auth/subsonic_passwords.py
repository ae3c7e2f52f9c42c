"""Subsonic app passwords: what legacy Subsonic players sign in with (`u`+`p`, `u`+`t`+`s`).

plyr never sees a user's ATProto password, so a player that cannot send an API key (a
developer token) gets a password of its own, made here. It is generated, never chosen:
token auth sends `t` = md5(password + salt) with the salt in the clear, so a captured
request is an offline guessing target, and `p` travels as plain (or hex) text; only a long
random password that is used nowhere else survives that. It is shown once, when it is made.

Token auth also means the server must know the password itself, so it is sealed (Fernet,
`plyr.auth.encryption`) under a key of its own derived from PLYR_SECRET_KEY, never only
hashed, and never logged. Rotating the secret key makes every app password unreadable:
those users generate a new one.

`u` is the user's handle or their DID. A handle can change (the row is keyed by DID): the
new handle works as soon as plyr has seen it (the next sign-in or identity event), the old
one stops; the DID never changes, which is why the settings page offers it too.

Failed sign-ins are counted in `plyr.ratelimit` buckets (the surface chooses which:
per address, per claimed user); `refused_for` reads them without counting.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select

from plyr import ratelimit
from plyr.auth.encryption import SecretsUnreadable, open_sealed, seal
from plyr.db.models import Artist, RateLimitHit, SubsonicPassword, utcnow
from plyr.db.text import storable
from plyr.runtime import Runtime

log = logging.getLogger(__name__)

# 20 characters of 31 (no 0/o, 1/l/i): about 99 bits, typed on a phone in five groups.
ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
GROUPS, GROUP_LENGTH = 5, 4
TOUCH_EVERY = timedelta(minutes=5)
INVALID_HANDLE = "handle.invalid"
MAX_USERNAME = 2048


@dataclass(frozen=True, slots=True)
class PasswordStatus:
    """What the settings page may show about a user's app password (never the password)."""

    created_at: datetime
    last_used_at: datetime | None


@dataclass(frozen=True, slots=True)
class SubsonicUser:
    """Who an app password signed in."""

    did: str
    handle: str


def generate_password() -> str:
    groups = ("".join(secrets.choice(ALPHABET) for _ in range(GROUP_LENGTH)) for _ in range(GROUPS))
    return "-".join(groups)


def _key(runtime: Runtime) -> bytes:
    """A key for app passwords only, so their ciphertexts never open as session secrets."""
    secret = runtime.settings.secret_key_bytes()
    return hmac.new(secret, b"plyr subsonic app passwords v1", hashlib.sha256).digest()


async def create_password(runtime: Runtime, did: str) -> str:
    """Make a new app password for `did`, replacing any old one; the only time it is seen."""
    password = generate_password()
    sealed = seal(_key(runtime), {"password": password})
    async with runtime.sessions() as db:
        await db.execute(delete(SubsonicPassword).where(SubsonicPassword.did == did))
        db.add(SubsonicPassword(did=did, sealed=sealed, created_at=utcnow()))
        await db.commit()
    log.info("a subsonic app password was generated", extra={"did": did})
    return password


async def remove_password(runtime: Runtime, did: str) -> bool:
    async with runtime.sessions() as db:
        result = await db.execute(delete(SubsonicPassword).where(SubsonicPassword.did == did))
        await db.commit()
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def password_status(runtime: Runtime, did: str) -> PasswordStatus | None:
    async with runtime.sessions() as db:
        row = await db.get(SubsonicPassword, did)
        return None if row is None else PasswordStatus(row.created_at, row.last_used_at)


def decode_password(p: str) -> str | None:
    """The `p` parameter: plain text, or `enc:` and the UTF-8 bytes in hex."""
    if not p.startswith("enc:"):
        return p
    try:
        return bytes.fromhex(p[4:]).decode("utf-8")
    except ValueError:
        return None


def _same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode("utf-8"), b.encode("utf-8"))


def _matches(stored: str, *, password: str | None, token: str | None, salt: str | None) -> bool:
    if password is not None:
        return _same(stored, password)
    if token is not None and salt is not None:
        expected = hashlib.md5((stored + salt).encode("utf-8")).hexdigest()  # noqa: S324 - the protocol's
        return _same(expected, token.lower())
    return False


async def check_password(
    runtime: Runtime,
    username: str,
    *,
    password: str | None = None,
    token: str | None = None,
    salt: str | None = None,
) -> SubsonicUser | None:
    """The user whose app password this is (`password`, or `token` = md5(password + salt)),
    or None. `username` is a handle or a DID; a handle two accounts claim matches neither."""
    key = username.strip().removeprefix("@").lower()
    found: tuple[SubsonicPassword, Artist] | None = None
    if key and key != INVALID_HANDLE and len(key) <= MAX_USERNAME and storable(key):
        column = Artist.did if key.startswith("did:") else Artist.handle
        async with runtime.sessions() as db:
            rows = (
                await db.execute(
                    select(SubsonicPassword, Artist)
                    .join(Artist, Artist.did == SubsonicPassword.did)
                    .where(column == key)
                    .limit(2)
                )
            ).all()
        if len(rows) == 1:
            found = (rows[0][0], rows[0][1])
    stored = generate_password()  # compared against when there is no row: the same work
    if found is not None:
        try:
            stored = str(open_sealed(_key(runtime), found[0].sealed)["password"])
        except (SecretsUnreadable, KeyError):
            log.warning("an app password cannot be read with this key", extra={"did": found[1].did})
            found = None
    if not _matches(stored, password=password, token=token, salt=salt) or found is None:
        return None
    row, artist = found
    await _touch(runtime, row)
    return SubsonicUser(artist.did, artist.handle)


async def _touch(runtime: Runtime, row: SubsonicPassword) -> None:
    now = utcnow()
    if row.last_used_at is not None and now - row.last_used_at < TOUCH_EVERY:
        return
    async with runtime.sessions() as db:
        fresh = await db.get(SubsonicPassword, row.did)
        if fresh is not None and fresh.created_at == row.created_at:  # not replaced meanwhile
            fresh.last_used_at = now
            await db.commit()


# --- failed sign-ins ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Throttle:
    """At most `limit` failed sign-ins per `window` seconds in each bucket."""

    limit: int
    window: int


async def refused_for(runtime: Runtime, buckets: list[str], throttle: Throttle) -> int | None:
    """Seconds until these buckets take sign-ins again, or None while they do.

    Reads the counters `plyr.ratelimit.hit` keeps (the same fixed windows) without counting:
    a request with the right password must not be refused for its own success, and one that
    arrives past the limit must be refused before its password is checked.
    """
    now = int(time.time())
    window = now - now % throttle.window
    async with runtime.sessions() as db:
        counts = await db.scalars(
            select(RateLimitHit.count).where(
                RateLimitHit.bucket.in_([bucket[:300] for bucket in buckets]),
                RateLimitHit.window_start == window,
            )
        )
        if any(count >= throttle.limit for count in counts):
            return window + throttle.window - now
    return None


async def count_failure(runtime: Runtime, bucket: str, throttle: Throttle) -> int | None:
    """Count a failed sign-in; the seconds until the bucket takes sign-ins again when this
    one went past its limit, else None."""
    verdict = await ratelimit.hit(
        runtime, bucket, limit=throttle.limit, window_seconds=throttle.window
    )
    return None if verdict.allowed else verdict.retry_after
