"""Fetching for identity lookups: capped, time-limited GETs through the network guard.

Transport failures become IdentityErrors; an https URL may not redirect to plain http.
"""

from __future__ import annotations

from collections.abc import Mapping

import httpx

from plyr.atproto.identity.errors import HostUnreachable, IdentityBlocked, IdentityUnavailable
from plyr.atproto.netguard import BlockedAddress, Fetched, ResponseTooLarge, fetch_capped

__all__ = [
    "IdentityFetcher",
]


class IdentityFetcher:
    """GETs for identity lookups, through a guarded client and within a total timeout."""

    def __init__(self, client: httpx.AsyncClient, timeout: float) -> None:
        self._client = client
        self._timeout = timeout

    async def get(self, url: str, max_bytes: int, headers: Mapping[str, str]) -> Fetched:
        """A capped, time-limited GET; transport failures become IdentityErrors.

        ResponseTooLarge passes through: what it means depends on the caller.
        """
        host = _host_of(url)
        try:
            fetched = await fetch_capped(
                self._client,
                url,
                max_bytes,
                headers=headers,
                total_timeout=self._timeout,
                # As the reference implementation does; the guard checks every hop.
                follow_redirects=True,
            )
        except BlockedAddress as exc:
            raise IdentityBlocked(url, exc.reason) from None
        except ResponseTooLarge:
            raise
        except httpx.TimeoutException:
            raise IdentityUnavailable(
                f"{host} did not answer within {self._timeout:g}s; try again later"
            ) from None
        except httpx.ConnectError as exc:
            raise HostUnreachable(f"cannot connect to {host}: {exc}") from None
        except httpx.HTTPError as exc:
            raise IdentityUnavailable(f"{host} failed to answer: {exc}") from None
        except ValueError as exc:  # e.g. a compressed body we did not ask for
            raise IdentityUnavailable(f"{host} sent an unusable answer: {exc}") from None
        if url.startswith("https://") and not fetched.url.startswith("https://"):
            # A redirect from https to plain http would let anyone on the path answer.
            raise IdentityBlocked(fetched.url, "redirected from https to plain http")
        return fetched


def _host_of(url: str) -> str:
    try:
        return httpx.URL(url).host or url
    except httpx.InvalidURL:
        return url
