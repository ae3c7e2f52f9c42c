"""Listens and plays: the player asks for a signed listen token when playback starts and
reports the play with it once 30 % of the track or 30 s has been heard. A play counts once
per listen; a counted play by a signed-in listener may scrobble to teal.fm."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from plyr.db.models import Play, Track
from plyr.errors import ServiceError
from plyr.listening import scrobble, windows
from plyr.runtime import Runtime
from plyr.tracks.catalogue import get_track

PLAY_THRESHOLD_MS = 30_000
PLAY_THRESHOLD_FRACTION = 0.3
# Wall-clock slack when checking that a listen lasted as long as it claims.
LISTEN_CLOCK_SLACK = 0.9


def play_threshold_ms(duration_seconds: int | None) -> int:
    """30 % of the track or 30 s, whichever comes first."""
    if not duration_seconds:
        return PLAY_THRESHOLD_MS
    return min(PLAY_THRESHOLD_MS, int(duration_seconds * 1000 * PLAY_THRESHOLD_FRACTION))


def _sign(secret: bytes, payload: dict[str, Any]) -> str:
    body = base64.urlsafe_b64encode(json.dumps(payload, separators=(",", ":")).encode())
    mac = hmac.new(secret, b"listen:" + body, hashlib.sha256).digest()[:18]
    return f"{body.decode().rstrip('=')}.{base64.urlsafe_b64encode(mac).decode()}"


def _verify(secret: bytes, token: str) -> dict[str, Any] | None:
    body, _, mac = token.partition(".")
    padded = body + "=" * (-len(body) % 4)
    expected = hmac.new(secret, b"listen:" + padded.encode(), hashlib.sha256).digest()[:18]
    try:
        if not hmac.compare_digest(base64.urlsafe_b64decode(mac), expected):
            return None
        data = json.loads(base64.urlsafe_b64decode(padded))
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


async def start_listen(runtime: Runtime, track_id: int) -> dict[str, Any]:
    """The player asks when playback starts; the signed token carries the start time."""
    track = await get_track(runtime, track_id)
    payload = {"t": track_id, "l": uuid.uuid4().hex, "s": round(time.time(), 3)}
    return {
        "listen_token": _sign(runtime.settings.secret_key_bytes(), payload),
        "threshold_ms": play_threshold_ms(track.duration_seconds),
    }


async def count_play(
    runtime: Runtime, listen_token: str, listened_ms: int, listener_did: str | None
) -> int:
    """Count a listen once; refuse reports that cannot be true. Returns the new play count."""
    payload = _verify(runtime.settings.secret_key_bytes(), listen_token)
    if payload is None:
        raise ServiceError(422, "invalid_listen", "this listen was not started by plyr")
    track = await get_track(runtime, int(payload["t"]))
    threshold = play_threshold_ms(track.duration_seconds)
    if listened_ms < threshold:
        raise ServiceError(
            422, "too_short", f"a play counts after {threshold // 1000} s of listening"
        )
    elapsed_ms = (time.time() - float(payload["s"])) * 1000
    if elapsed_ms < threshold * LISTEN_CLOCK_SLACK:
        raise ServiceError(422, "too_soon", "this listen has not lasted long enough to count")
    async with runtime.sessions() as db:
        try:
            db.add(
                Play(
                    track_id=track.id,
                    listener_did=listener_did,
                    listen_id=str(payload["l"]),
                    listened_ms=listened_ms,
                )
            )
            await db.flush()
            await db.execute(
                update(Track).where(Track.id == track.id).values(play_count=Track.play_count + 1)
            )
            if listener_did is not None:  # a teal.fm scrobble when the listener turned it on
                await scrobble.enqueue_scrobble(
                    db,
                    runtime.settings,
                    track_id=track.id,
                    listener_did=listener_did,
                    listen_id=str(payload["l"]),
                    started_at=float(payload["s"]),
                )
            await db.commit()
        except IntegrityError as exc:
            await db.rollback()
            raise ServiceError(409, "already_counted", "this listen was already counted") from exc
        count = int(await db.scalar(select(Track.play_count).where(Track.id == track.id)) or 0)
    # Plays that aged out of the top-tracks windows leave their counts (its own transaction:
    # on PostgreSQL it waits for transactions writing plays, this one included).
    await windows.advance_if_due(runtime)
    return count
