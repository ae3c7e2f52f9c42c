"""Matching through an AcoustID-like web service, and the choice of matcher from settings.

The service knows recordings, not the operator's reference works: a hit is keyed
``acoustid:<recording id>`` and carries what the service knows of it (``ExternalWork``).
It compares whole tracks, so the one range of a hit is the whole track. Off by default
(``PLYR_MODERATION_MATCHER=acoustid`` and an API key turn it on).
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any, Final

import httpx

from plyr.config import Settings
from plyr.media.fingerprint import Fingerprint
from plyr.moderation.matching import (
    ExternalWork,
    FingerprintIndex,
    LocalMatcher,
    Match,
    Matcher,
    MatcherUnavailable,
    MatchRange,
)

_TIMEOUT_SECONDS: Final = 10.0
# 4xx answers a retry may cure: a timeout, too many requests.
_TRANSIENT_4XX: Final = (408, 429)


class MatcherRejected(Exception):
    """The service refused the request itself (a 4xx: a bad API key, say): retrying the same
    request can't help, unlike `MatcherUnavailable`."""


class AcoustIdMatcher:
    name = "acoustid"

    def __init__(
        self,
        http: httpx.AsyncClient,
        url: str,
        api_key: str,
        *,
        timeout: float = _TIMEOUT_SECONDS,
    ) -> None:
        self._http = http
        self._url = url
        self._api_key = api_key
        self._timeout = httpx.Timeout(timeout)

    async def find(
        self, fp: Fingerprint, *, exclude: Collection[str] = (), min_score: int
    ) -> list[Match]:
        """Ask the service. Raises ``MatcherUnavailable`` when it fails or times out, and
        ``MatcherRejected`` when it refuses the request (a 4xx)."""
        form = {
            "client": self._api_key,
            "duration": str(max(1, round(fp.duration))),
            "fingerprint": fp.compressed(),
            "meta": "recordings",
            "format": "json",
        }
        try:
            response = await self._http.post(self._url, data=form, timeout=self._timeout)
        except httpx.TimeoutException:
            raise MatcherUnavailable("the acoustid service timed out") from None
        except httpx.HTTPError as exc:
            raise MatcherUnavailable(f"the acoustid service can't be reached ({exc})") from None
        try:
            body = response.json()
        except ValueError:
            body = None
        code = response.status_code
        if not isinstance(body, dict) or body.get("status") != "ok" or code != 200:
            error = body.get("error") if isinstance(body, dict) else None
            message = error.get("message") if isinstance(error, dict) else None
            said = f"the acoustid service answered {code}: {message or 'an error'}"
            if 400 <= code < 500 and code not in _TRANSIENT_4XX:
                raise MatcherRejected(said)
            raise MatcherUnavailable(said)
        matches = _matches(body.get("results"), fp.duration)
        found = [m for m in matches if m.score >= min_score and m.key not in exclude]
        return sorted(found, key=lambda m: (-m.score, m.key))


def _matches(results: object, duration: float) -> list[Match]:
    if not isinstance(results, list):
        raise MatcherUnavailable("the acoustid service answered without results")
    best: dict[str, Match] = {}
    for result in results:
        if not isinstance(result, dict) or not isinstance(result.get("score"), int | float):
            continue
        score = max(0, min(100, round(float(result["score"]) * 100)))
        for recording in result.get("recordings") or []:
            if not isinstance(recording, dict) or not isinstance(recording.get("id"), str):
                continue
            key = f"acoustid:{recording['id']}"
            length = recording.get("duration")
            matched_end = float(length) if isinstance(length, int | float) else duration
            whole = MatchRange(0.0, round(duration, 1), 0.0, round(matched_end, 1))
            match = Match(key, score, (whole,), _external(recording))
            if key not in best or best[key].score < score:
                best[key] = match
    return list(best.values())


def _external(recording: dict[str, Any]) -> ExternalWork:
    artists = recording.get("artists")
    names = [
        a["name"] for a in artists or [] if isinstance(a, dict) and isinstance(a.get("name"), str)
    ]
    title = recording.get("title")
    return ExternalWork(
        title=title if isinstance(title, str) else None,
        artist=", ".join(names) or None,
        external_id=str(recording["id"]),
    )


def matcher_for(settings: Settings, index: FingerprintIndex, http: httpx.AsyncClient) -> Matcher:
    """The matcher the settings choose: the local index, or the web service."""
    if settings.moderation_matcher == "acoustid":
        if settings.acoustid_api_key is None:
            raise ValueError("PLYR_MODERATION_MATCHER=acoustid needs PLYR_ACOUSTID_API_KEY")
        return AcoustIdMatcher(
            http, settings.acoustid_url, settings.acoustid_api_key.get_secret_value()
        )
    return LocalMatcher(index)
