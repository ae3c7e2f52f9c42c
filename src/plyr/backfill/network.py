"""Reading repositories from the network: who to back up (`listRepos`), where a repo lives
(its DID document), its latest revision (`getLatestCommit`) and the repo itself (`getRepo`).

Every URL is fetched through the guarded client (`plyr.atproto.netguard`): a DID document
names the PDS, and a user controls that. Bodies are capped and the whole exchange has a
time limit. A PDS that does not answer in time fails its repo at once (trying again would
only make the run wait as long again); errors a retry can cure (a dropped connection, 429,
5xx) are tried again a few times with backoff; any other answer fails the repo with the
PDS's own words.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import urlencode

import httpx

from plyr.atproto.netguard import BlockedAddress, Fetched, ResponseTooLarge, fetch_capped

log = logging.getLogger(__name__)

T = TypeVar("T")

MIB = 1024 * 1024
LIST_PAGE = 1000
LIST_MAX_BYTES = 8 * MIB
SMALL_MAX_BYTES = 64 * 1024
TRANSIENT_STATUS = frozenset({408, 429, 500, 502, 503, 504})


@dataclass(frozen=True, slots=True)
class FetchLimits:
    """How far plyr goes for one repository."""

    max_repo_bytes: int = 256 * MIB
    timeout_seconds: float = 120.0  # for the whole getRepo exchange
    attempts: int = 3
    backoff_seconds: float = 1.0
    list_page: int = LIST_PAGE  # repositories per listRepos page


# What a PDS answers for an account that is not active: a skip, not a failure.
INACTIVE_ERRORS = frozenset({"RepoDeactivated", "RepoTakendown", "RepoSuspended"})


class RepoUnavailable(Exception):
    """The repository could not be read; `reason` is fit for the report. `inactive`: the
    PDS says the account is deactivated, taken down or suspended."""

    def __init__(self, reason: str, *, transient: bool = False, inactive: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.transient = transient
        self.inactive = inactive


@dataclass(frozen=True, slots=True)
class ListedRepo:
    """One entry of `com.atproto.sync.listRepos`."""

    did: str
    rev: str | None
    active: bool
    status: str | None


def xrpc_url(service: str, method: str, params: dict[str, str]) -> str:
    return f"{service.rstrip('/')}/xrpc/{method}?{urlencode(params)}"


def _error_of(fetched: Fetched) -> tuple[str | None, str]:
    """The XRPC error name of a failed answer, and it with its message (or the status)."""
    try:
        body: Any = json.loads(fetched.content)
    except ValueError:
        body = None
    if isinstance(body, dict) and isinstance(body.get("error"), str):
        name = str(body["error"])
        message = str(body.get("message") or "").strip()
        return name, f"{name}: {message[:300]}" if message else name
    return None, f"HTTP {fetched.status_code}"


async def get_capped(
    client: httpx.AsyncClient, url: str, max_bytes: int, seconds: float, what: str
) -> Fetched:
    """GET within the limits; RepoUnavailable (transient or not) for anything but a 2xx."""
    try:
        fetched = await fetch_capped(client, url, max_bytes, total_timeout=seconds)
    except httpx.TimeoutException:
        raise RepoUnavailable(f"{what}: the server did not answer within {seconds:g}s") from None
    except ResponseTooLarge:
        raise RepoUnavailable(f"{what}: larger than {max_bytes // MIB or 1} MiB") from None
    except BlockedAddress as exc:
        raise RepoUnavailable(f"{what}: {exc.reason}") from None
    except httpx.TransportError as exc:
        raise RepoUnavailable(f"{what}: {exc or type(exc).__name__}", transient=True) from None
    except ValueError as exc:  # a compressed body we did not ask for
        raise RepoUnavailable(f"{what}: {exc}") from None
    if fetched.is_success:
        return fetched
    transient = fetched.status_code in TRANSIENT_STATUS
    name, error = _error_of(fetched)
    raise RepoUnavailable(f"{what}: {error}", transient=transient, inactive=name in INACTIVE_ERRORS)


async def with_retries(attempt: Callable[[], Awaitable[T]], limits: FetchLimits, what: str) -> T:
    """Run `attempt`, again after a transient RepoUnavailable (doubling the wait)."""
    for number in range(1, limits.attempts + 1):
        try:
            return await attempt()
        except RepoUnavailable as exc:
            if not exc.transient or number == limits.attempts:
                if exc.transient:
                    raise RepoUnavailable(f"{exc.reason} (tried {number} times)") from None
                raise
            delay = limits.backoff_seconds * 2 ** (number - 1)
            log.info("%s: %s; trying again in %.1fs", what, exc.reason, delay)
            await asyncio.sleep(delay)
    raise AssertionError("unreachable")  # pragma: no cover


async def latest_rev(
    client: httpx.AsyncClient, pds_url: str, did: str, limits: FetchLimits
) -> str | None:
    """The revision of the repo's latest commit, or None when the PDS does not say (the
    repo is then fetched whole and its own commit decides)."""
    url = xrpc_url(pds_url, "com.atproto.sync.getLatestCommit", {"did": did})
    try:
        fetched = await get_capped(
            client, url, SMALL_MAX_BYTES, min(limits.timeout_seconds, 30.0), "getLatestCommit"
        )
        body = json.loads(fetched.content)
    except (RepoUnavailable, ValueError) as exc:
        log.debug("no latest commit of %s: %s", did, exc)
        return None
    rev = body.get("rev") if isinstance(body, dict) else None
    return rev if isinstance(rev, str) else None


async def get_repo(client: httpx.AsyncClient, pds_url: str, did: str, limits: FetchLimits) -> bytes:
    """The repository as a CAR file (`com.atproto.sync.getRepo`), retried when transient."""
    url = xrpc_url(pds_url, "com.atproto.sync.getRepo", {"did": did})

    async def attempt() -> bytes:
        fetched = await get_capped(
            client, url, limits.max_repo_bytes, limits.timeout_seconds, "getRepo"
        )
        return fetched.content

    return await with_retries(attempt, limits, f"getRepo {did}")


async def list_repos(
    client: httpx.AsyncClient, service: str, limits: FetchLimits
) -> AsyncIterator[ListedRepo]:
    """Every repository `service` (a PDS or a relay) lists, page by page (cursor)."""
    cursor: str | None = None
    seen_cursors: set[str] = set()
    while True:
        params = {"limit": str(limits.list_page)} | ({"cursor": cursor} if cursor else {})
        url = xrpc_url(service, "com.atproto.sync.listRepos", params)

        async def attempt(url: str = url) -> Fetched:
            return await get_capped(
                client, url, LIST_MAX_BYTES, limits.timeout_seconds, "listRepos"
            )

        fetched = await with_retries(attempt, limits, f"listRepos {service}")
        try:
            body = json.loads(fetched.content)
        except ValueError:
            raise RepoUnavailable("listRepos: the answer is not JSON") from None
        repos = body.get("repos") if isinstance(body, dict) else None
        if not isinstance(repos, list):
            raise RepoUnavailable("listRepos: the answer has no list of repos")
        for entry in repos:
            if isinstance(entry, dict) and isinstance(entry.get("did"), str):
                rev = entry.get("rev")
                status = entry.get("status")
                yield ListedRepo(
                    did=entry["did"],
                    rev=rev if isinstance(rev, str) else None,
                    active=entry.get("active", True) is not False,
                    status=status if isinstance(status, str) else None,
                )
        next_cursor = body.get("cursor")
        # A server that hands back a cursor it gave before would keep us here forever.
        if not isinstance(next_cursor, str) or not repos or next_cursor in seen_cursors:
            return
        seen_cursors.add(next_cursor)
        cursor = next_cursor
