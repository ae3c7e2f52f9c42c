"""Handle -> DID: DNS (`_atproto.<handle>` TXT) and HTTPS (`/.well-known/atproto-did`).

Both methods run at once; DNS wins when both answer. On the development network,
`.test` handles resolve through the local PDS instead.
"""

from __future__ import annotations

import json

import anyio
import dns.asyncresolver
import dns.exception
import dns.resolver
import httpx

from plyr.atproto.identity.errors import (
    HandleNotFound,
    HostUnreachable,
    IdentityBlocked,
    IdentityError,
    IdentityUnavailable,
    InvalidHandle,
    preview,
)
from plyr.atproto.identity.fetching import IdentityFetcher
from plyr.atproto.netguard import ResponseTooLarge
from plyr.atproto.syntax import InvalidSyntax, ensure_handle, is_disallowed_tld, is_valid_did

__all__ = [
    "DEV_HANDLE_SUFFIX",
    "WELL_KNOWN_DID_MAX_BYTES",
    "HandleResolver",
]

DEV_HANDLE_SUFFIX = ".test"
# An atproto-did body is one DID (at most 2048 characters); anything much longer is not one.
WELL_KNOWN_DID_MAX_BYTES = 4096


class _AmbiguousHandle(HandleNotFound):
    """DNS names several different DIDs: resolution fails whatever HTTPS says."""


_HandleOutcome = str | IdentityError


class HandleResolver:
    """Handle -> DID, uncached and not yet checked the other way (IdentityResolver does both).

    `dev_pds_url` and `dev_well_known_base` are the development network's hooks (see
    IdentityResolver); they are None elsewhere.
    """

    def __init__(
        self,
        fetcher: IdentityFetcher,
        *,
        timeout: float,
        max_bytes: int,
        dev_network: bool,
        dev_pds_url: str | None,
        dev_well_known_base: str | None,
    ) -> None:
        self._fetcher = fetcher
        self._timeout = timeout
        self._max_bytes = max_bytes
        self._dev_network = dev_network
        self._dev_pds_url = dev_pds_url
        self._dev_well_known_base = dev_well_known_base
        self._dns: dns.asyncresolver.Resolver | None = None

    def normalise(self, value: object) -> str:
        """The handle in its canonical form; InvalidHandle when plyr cannot resolve it."""
        if isinstance(value, str):
            value = value.strip().removeprefix("@")
        try:
            handle = ensure_handle(value)
        except InvalidSyntax as exc:
            raise InvalidHandle(f"{preview(value)} is not a valid handle: {exc.reason}") from None
        if is_disallowed_tld(handle):
            tld = handle.rsplit(".", 1)[-1]
            raise InvalidHandle(f"handles ending in .{tld} are reserved and cannot be used")
        if handle.endswith(DEV_HANDLE_SUFFIX) and not self._dev_network:
            raise InvalidHandle("handles ending in .test only exist on a development network")
        return handle

    async def lookup(self, handle: str) -> str:
        """The DID a (normalised) handle names; HandleNotFound or another IdentityError."""
        if self._dev_network and handle.endswith(DEV_HANDLE_SUFFIX):
            return await self._lookup_dev_handle(handle)
        outcomes: dict[str, _HandleOutcome] = {}
        async with anyio.create_task_group() as group:

            async def by_dns() -> None:
                outcomes["dns"] = await self._handle_by_dns(handle)
                if isinstance(outcomes["dns"], str):
                    group.cancel_scope.cancel()  # DNS wins; no need to wait for HTTPS

            async def by_https() -> None:
                url = f"https://{handle}/.well-known/atproto-did"
                outcomes["https"] = await self._handle_by_well_known(handle, url)

            group.start_soon(by_dns)
            group.start_soon(by_https)
        return _decide(handle, [outcomes.get("dns"), outcomes.get("https")])

    async def _lookup_dev_handle(self, handle: str) -> str:
        # `.test` is reserved (RFC 2606): such handles live only on the local network, whose
        # PDS knows its accounts; no DNS or public HTTPS is consulted for them.
        outcomes: list[_HandleOutcome | None] = []
        if self._dev_pds_url is not None:
            outcomes.append(await self._handle_by_dev_pds(handle, self._dev_pds_url))
        found = any(isinstance(outcome, str) for outcome in outcomes)
        if not found and self._dev_well_known_base is not None:
            url = f"{self._dev_well_known_base}/.well-known/atproto-did"
            outcomes.append(await self._handle_by_well_known(handle, url, host=handle))
        if not outcomes:
            raise HandleNotFound(
                f"@{handle} is a development handle, and no development PDS is configured "
                "(set PLYR_ATPROTO_DEV_PDS_URL)"
            )
        return _decide(handle, outcomes)

    async def _handle_by_dns(self, handle: str) -> _HandleOutcome:
        name = f"_atproto.{handle}"
        try:
            if self._dns is None:
                self._dns = dns.asyncresolver.Resolver()
            answer = await self._dns.resolve(name, "TXT", lifetime=self._timeout)
        except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
            return HandleNotFound(f"no DNS record {name}")
        except dns.exception.Timeout:
            return IdentityUnavailable(f"DNS did not answer for {name} in {self._timeout}s")
        except dns.exception.DNSException as exc:
            return IdentityUnavailable(f"DNS lookup of {name} failed: {exc}")
        dids: set[str] = set()
        for record in answer:
            text = b"".join(getattr(record, "strings", ())).decode("utf-8", "replace").strip()
            if text.startswith("did="):
                candidate = text[len("did=") :].strip()
                if is_valid_did(candidate):
                    dids.add(candidate)
        if len(dids) > 1:
            return _AmbiguousHandle(
                f"@{handle} cannot be resolved: its DNS names several different DIDs"
            )
        if not dids:
            return HandleNotFound(f"the DNS record {name} holds no valid did= line")
        return dids.pop()

    async def _handle_by_well_known(
        self, handle: str, url: str, *, host: str | None = None
    ) -> _HandleOutcome:
        headers = {"Host": host, "Accept": "text/plain"} if host else {"Accept": "text/plain"}
        try:
            response = await self._fetcher.get(
                url, min(self._max_bytes, WELL_KNOWN_DID_MAX_BYTES), headers
            )
        except HostUnreachable as exc:
            return HandleNotFound(exc.message)
        except IdentityError as exc:
            return exc
        except ResponseTooLarge:
            return HandleNotFound(f"{url} holds more than a DID")
        if response.status_code >= 500:
            return IdentityUnavailable(f"{url} answered {response.status_code}")
        if response.status_code != 200:
            return HandleNotFound(f"{url} answered {response.status_code}")
        try:
            candidate = response.text().strip()
        except UnicodeDecodeError:
            return HandleNotFound(f"{url} does not hold a DID")
        if not is_valid_did(candidate):
            return HandleNotFound(f"{url} does not hold a DID")
        return candidate

    async def _handle_by_dev_pds(self, handle: str, pds_url: str) -> _HandleOutcome:
        url = str(
            httpx.URL(
                f"{pds_url}/xrpc/com.atproto.identity.resolveHandle", params={"handle": handle}
            )
        )
        try:
            response = await self._fetcher.get(url, self._max_bytes, {"Accept": "application/json"})
        except ResponseTooLarge:
            return IdentityUnavailable(f"the development PDS sent an oversized answer for {handle}")
        except IdentityError as exc:
            return exc
        if response.status_code == 400:
            return HandleNotFound(f"the development PDS does not know @{handle}")
        if response.status_code != 200:
            return IdentityUnavailable(f"the development PDS answered {response.status_code}")
        try:
            did = json.loads(response.content).get("did")
        except (ValueError, AttributeError):
            did = None
        if not is_valid_did(did):
            return IdentityUnavailable("the development PDS answered without a valid DID")
        assert isinstance(did, str)
        return did


def _decide(handle: str, outcomes: list[_HandleOutcome | None]) -> str:
    """Combine the methods' outcomes: the first DID wins, then the most telling failure."""
    errors = [outcome for outcome in outcomes if isinstance(outcome, IdentityError)]
    for error in errors:
        if isinstance(error, _AmbiguousHandle):  # decisive, whatever the other method says
            raise HandleNotFound(error.message)
    for outcome in outcomes:
        if isinstance(outcome, str):
            return outcome
    for kind in (IdentityUnavailable, IdentityBlocked):
        for error in errors:
            if isinstance(error, kind):
                raise error
    details = "; ".join(error.message for error in errors)
    raise HandleNotFound(
        f"no account uses the handle @{handle}" + (f" ({details})" if details else "")
    )
