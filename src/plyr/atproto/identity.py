"""Identity resolution: handle → DID → DID document → PDS, with the bidirectional check.

- A handle resolves through DNS (`_atproto.<handle>` TXT, `did=...`) and HTTPS
  (`https://<handle>/.well-known/atproto-did`), both at once; DNS wins when both answer.
- A DID resolves to its document: did:plc from the PLC directory, did:web from
  `https://<host>/.well-known/did.json`.
- A handle counts only when the DID document names it back in `alsoKnownAs`.

Every fetch goes through the network guard (`plyr.atproto.netguard`): user-controlled
names never reach private addresses, bodies are size-capped and every lookup is
time-limited. Answers are cached in memory for `identity_cache_seconds` (misses for a
short while); `invalidate` drops an entry when the network says it changed.

The development network (`atproto_dev_network`) is the one place where the rules bend,
and only in ways a production configuration cannot reach (settings refuse the flag in
production): loopback hosts are allowed, `.test` handles resolve through the local PDS,
and did:web may name `localhost` with a port, served over plain http.
"""

from __future__ import annotations

import json
import logging
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, ClassVar, Generic, TypeVar

import anyio
import dns.asyncresolver
import dns.exception
import dns.resolver
import httpx

from plyr.atproto.netguard import (
    BlockedAddress,
    Fetched,
    ResponseTooLarge,
    fetch_capped,
    guarded_client,
)
from plyr.atproto.syntax import (
    InvalidSyntax,
    did_web_host,
    ensure_did,
    ensure_did_plc,
    ensure_handle,
    is_disallowed_tld,
    is_valid_did,
    is_valid_handle,
)
from plyr.config import Settings

__all__ = [
    "DidDocument",
    "DidNotFound",
    "HandleMismatch",
    "HandleNotFound",
    "Identity",
    "IdentityBlocked",
    "IdentityError",
    "IdentityResolver",
    "IdentityUnavailable",
    "InvalidDid",
    "InvalidDidDocument",
    "InvalidHandle",
    "parse_did_document",
]

log = logging.getLogger(__name__)

DEV_HANDLE_SUFFIX = ".test"
MAX_CACHE_ENTRIES = 10_000
NEGATIVE_CACHE_SECONDS = 60.0
# An atproto-did body is one DID (at most 2048 characters); anything much longer is not one.
WELL_KNOWN_DID_MAX_BYTES = 4096
PDS_SERVICE_TYPE = "AtprotoPersonalDataServer"


# ---------------------------------------------------------------------------------------
# errors


class IdentityError(ValueError):
    """An identity could not be resolved; `message` is fit to show the user."""

    retryable: ClassVar[bool] = False

    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(message)


class InvalidHandle(IdentityError):
    """Not a handle plyr can resolve (syntax, or a reserved top-level domain)."""


class InvalidDid(IdentityError):
    """Not a DID plyr can resolve (syntax, or a method atproto does not use)."""


class HandleNotFound(IdentityError):
    """Neither DNS nor the handle's web server names a DID."""


class _AmbiguousHandle(HandleNotFound):
    """DNS names several different DIDs: resolution fails whatever HTTPS says."""


class DidNotFound(IdentityError):
    """The DID has no document (unknown to the directory, or deleted)."""


class InvalidDidDocument(IdentityError):
    """The DID document is unusable: malformed, too large, or without a PDS."""


class HandleMismatch(IdentityError):
    """The handle points at a DID whose document does not name the handle back."""


class IdentityUnavailable(IdentityError):
    """A server or DNS did not answer in time or failed (5xx); trying later may work."""

    retryable = True


class _HostUnreachable(IdentityUnavailable):
    """The connection failed outright (no such host, refused)."""


class IdentityBlocked(BlockedAddress, IdentityError):
    """Resolution would have fetched a private or otherwise refused address.

    Both a BlockedAddress and an IdentityError (BlockedAddress.__init__ hands its message
    on to IdentityError.__init__ through the MRO).
    """


# ---------------------------------------------------------------------------------------
# results


@dataclass(frozen=True, slots=True)
class DidDocument:
    """The parts of a DID document atproto uses."""

    id: str
    also_known_as: tuple[str, ...]
    handles: tuple[str, ...]
    """The `at://` entries of alsoKnownAs that are valid handles, lowercase, in order."""
    pds_url: str
    """The `#atproto_pds` service endpoint, without a trailing slash."""
    signing_key: str | None
    """publicKeyMultibase of the `#atproto` verification method."""
    raw: Mapping[str, Any] = field(compare=False, repr=False)

    @property
    def handle(self) -> str | None:
        """The handle the document claims (the first one); verify it before trusting it."""
        return self.handles[0] if self.handles else None


@dataclass(frozen=True, slots=True)
class Identity:
    did: str
    handle: str | None
    """None when the handle does not verify both ways (shown as `handle.invalid`)."""
    pds_url: str
    document: DidDocument

    @property
    def display_handle(self) -> str:
        return self.handle or "handle.invalid"


# ---------------------------------------------------------------------------------------
# DID document parsing


def _fragment_matches(entry_id: object, did: str, fragment: str) -> bool:
    return entry_id in (fragment, f"{did}{fragment}")


def _pds_endpoint(did: str, value: object, *, allow_http: bool) -> str:
    if not isinstance(value, str) or not value:
        raise InvalidDidDocument(f"the DID document of {did} has a PDS endpoint that is no URL")
    try:
        url = httpx.URL(value)
    except httpx.InvalidURL:
        raise InvalidDidDocument(
            f"the DID document of {did} names a PDS that is no URL: {value[:200]!r}"
        ) from None
    schemes = ("https", "http") if allow_http else ("https",)
    if url.scheme not in schemes or not url.host:
        raise InvalidDidDocument(
            f"the DID document of {did} names a PDS that is not an https URL: {value[:200]!r}"
        )
    if url.userinfo or url.query or url.fragment:
        raise InvalidDidDocument(
            f"the DID document of {did} names a PDS URL with credentials, query or fragment"
        )
    return value.rstrip("/")


def parse_did_document(did: str, data: object, *, allow_http_pds: bool = False) -> DidDocument:
    """Check a decoded DID document belongs to `did` and pull out what atproto needs.

    Raises InvalidDidDocument. `allow_http_pds` is for the development network only.
    """
    if not isinstance(data, dict):
        raise InvalidDidDocument(f"the DID document of {did} is not a JSON object")
    if data.get("id") != did:
        raise InvalidDidDocument(
            f"the DID document served for {did} belongs to {str(data.get('id'))[:100]!r}"
        )
    aka_raw = data.get("alsoKnownAs", [])
    if not isinstance(aka_raw, list):
        raise InvalidDidDocument(f"the DID document of {did} has a malformed alsoKnownAs")
    also_known_as = tuple(entry for entry in aka_raw if isinstance(entry, str))
    handles: list[str] = []
    for entry in also_known_as:
        if entry.startswith("at://"):
            candidate = entry[len("at://") :]
            if is_valid_handle(candidate) and candidate.lower() not in handles:
                handles.append(candidate.lower())

    services = data.get("service", [])
    if not isinstance(services, list):
        raise InvalidDidDocument(f"the DID document of {did} has a malformed service list")
    pds_url: str | None = None
    for service in services:
        if (
            isinstance(service, dict)
            and _fragment_matches(service.get("id"), did, "#atproto_pds")
            and service.get("type") == PDS_SERVICE_TYPE
        ):
            pds_url = _pds_endpoint(did, service.get("serviceEndpoint"), allow_http=allow_http_pds)
            break
    if pds_url is None:
        raise InvalidDidDocument(
            f"the DID document of {did} names no PDS (no #atproto_pds service)"
        )

    methods = data.get("verificationMethod", [])
    signing_key: str | None = None
    if isinstance(methods, list):
        for method in methods:
            if isinstance(method, dict) and _fragment_matches(method.get("id"), did, "#atproto"):
                key = method.get("publicKeyMultibase")
                signing_key = key if isinstance(key, str) and key else None
                break

    return DidDocument(
        id=did,
        also_known_as=also_known_as,
        handles=tuple(handles),
        pds_url=pds_url,
        signing_key=signing_key,
        raw=data,
    )


# ---------------------------------------------------------------------------------------
# cache

K = TypeVar("K")
V = TypeVar("V")


@dataclass(frozen=True, slots=True)
class _Miss:
    """A cached "not found", with the message to raise again."""

    message: str


class _TtlCache(Generic[K, V]):
    """A bounded, least-recently-used map whose entries expire."""

    def __init__(self, max_entries: int, clock: Callable[[], float]) -> None:
        self._max_entries = max_entries
        self._clock = clock
        self._entries: OrderedDict[K, tuple[float, V]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: K) -> V | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        expires, value = entry
        if expires <= self._clock():
            del self._entries[key]
            return None
        self._entries.move_to_end(key)
        return value

    def put(self, key: K, value: V, ttl: float) -> None:
        if ttl <= 0 or self._max_entries <= 0:
            return
        self._entries[key] = (self._clock() + ttl, value)
        self._entries.move_to_end(key)
        while len(self._entries) > self._max_entries:
            self._entries.popitem(last=False)

    def pop(self, key: K) -> None:
        self._entries.pop(key, None)

    def drop_values(self, predicate: Callable[[V], bool]) -> None:
        for key in [key for key, (_, value) in self._entries.items() if predicate(value)]:
            del self._entries[key]

    def clear(self) -> None:
        self._entries.clear()


# ---------------------------------------------------------------------------------------
# the resolver

_HandleOutcome = str | IdentityError


class IdentityResolver:
    """Resolves handles and DIDs for plyr; one per process, shared (it holds a client).

    `dev_pds_url` (default: `settings.atproto_dev_pds_url`) and `dev_well_known_base` only
    apply on the development network, where `.test` handles exist in no DNS: they resolve
    through the local PDS's `com.atproto.identity.resolveHandle`, and, when
    `dev_well_known_base` is given, through `<base>/.well-known/atproto-did` with the
    handle as the Host header (the HTTPS method pointed at a local server; tests use it).
    """

    def __init__(
        self,
        settings: Settings,
        *,
        dev_pds_url: str | None = None,
        dev_well_known_base: str | None = None,
        clock: Callable[[], float] = time.monotonic,
        max_entries: int = MAX_CACHE_ENTRIES,
        negative_cache_seconds: float = NEGATIVE_CACHE_SECONDS,
    ) -> None:
        self._dev_network = settings.atproto_dev_network and settings.environment != "production"
        if (dev_pds_url or dev_well_known_base) and not self._dev_network:
            raise ValueError("dev_pds_url and dev_well_known_base need atproto_dev_network on")
        self._plc_url = settings.plc_url.rstrip("/")
        self._timeout = settings.identity_timeout_seconds
        self._max_bytes = settings.identity_max_bytes
        self._ttl = settings.identity_cache_seconds
        self._negative_ttl = min(negative_cache_seconds, settings.identity_cache_seconds)
        self._dev_pds_url: str | None = None
        self._dev_well_known_base: str | None = None
        if self._dev_network:
            pds = dev_pds_url or settings.atproto_dev_pds_url
            self._dev_pds_url = pds.rstrip("/") if pds else None
            base = dev_well_known_base
            self._dev_well_known_base = base.rstrip("/") if base else None
        self._client = guarded_client(settings)
        self._handles: _TtlCache[str, str | _Miss] = _TtlCache(max_entries, clock)
        self._documents: _TtlCache[str, DidDocument | _Miss] = _TtlCache(max_entries, clock)
        self._dns: dns.asyncresolver.Resolver | None = None

    async def aclose(self) -> None:
        await self._client.aclose()

    async def __aenter__(self) -> IdentityResolver:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

    # -- public API ---------------------------------------------------------------------

    async def resolve(self, identifier: str) -> Identity:
        """A handle or a DID to a verified identity.

        For a handle, the DID document must name it back (else HandleMismatch). For a DID,
        the handle its document claims is checked the other way; `handle` is None when it
        does not point back at the DID.
        """
        text = identifier.strip()
        if text.startswith("did:"):
            return await self._resolve_did_identity(text)
        handle = self._normalise_handle(text)
        did = await self.resolve_handle(handle)
        document = await self.resolve_did(did)
        if handle not in document.handles:
            raise HandleMismatch(
                f"@{handle} points at {did}, but that account does not claim the handle "
                "(its DID document does not list it)"
            )
        return Identity(did=did, handle=handle, pds_url=document.pds_url, document=document)

    async def resolve_handle(self, handle: str) -> str:
        """The DID a handle points at (not yet checked the other way: see `resolve`)."""
        handle = self._normalise_handle(handle)
        cached = self._handles.get(handle)
        if isinstance(cached, _Miss):
            raise HandleNotFound(cached.message)
        if cached is not None:
            return cached
        try:
            did = await self._lookup_handle(handle)
        except HandleNotFound as exc:
            self._handles.put(handle, _Miss(exc.message), self._negative_ttl)
            raise
        self._handles.put(handle, did, self._ttl)
        return did

    async def resolve_did(self, did: str) -> DidDocument:
        did = self._check_did(did)
        cached = self._documents.get(did)
        if isinstance(cached, _Miss):
            raise DidNotFound(cached.message)
        if cached is not None:
            return cached
        try:
            document = await self._fetch_document(did)
        except DidNotFound as exc:
            self._documents.put(did, _Miss(exc.message), self._negative_ttl)
            raise
        self._documents.put(did, document, self._ttl)
        return document

    def invalidate(self, did_or_handle: str) -> None:
        """Forget what is cached about a DID (its document and handles) or a handle."""
        key = did_or_handle.strip()
        if key.startswith("did:"):
            self._documents.pop(key)
            self._handles.drop_values(lambda value: value == key)
        else:
            self._handles.pop(key.removeprefix("@").lower())

    def clear_cache(self) -> None:
        self._handles.clear()
        self._documents.clear()

    # -- validation ---------------------------------------------------------------------

    def _normalise_handle(self, value: object) -> str:
        if isinstance(value, str):
            value = value.strip().removeprefix("@")
        try:
            handle = ensure_handle(value)
        except InvalidSyntax as exc:
            raise InvalidHandle(f"{_preview(value)} is not a valid handle: {exc.reason}") from None
        if is_disallowed_tld(handle):
            tld = handle.rsplit(".", 1)[-1]
            raise InvalidHandle(f"handles ending in .{tld} are reserved and cannot be used")
        if handle.endswith(DEV_HANDLE_SUFFIX) and not self._dev_network:
            raise InvalidHandle("handles ending in .test only exist on a development network")
        return handle

    def _check_did(self, value: object) -> str:
        try:
            did = ensure_did(value)
            if did.startswith("did:plc:"):
                return ensure_did_plc(did)
            if did.startswith("did:web:"):
                host = did_web_host(did)
                if ":" in host and not self._dev_network:
                    raise InvalidDid(f"{did} names a port, allowed only on a development network")
                return did
        except InvalidSyntax as exc:
            raise InvalidDid(f"{_preview(value)} is not a valid DID: {exc.reason}") from None
        raise InvalidDid(f"{did} uses a DID method atproto does not support (only plc and web)")

    # -- handle → DID -------------------------------------------------------------------

    async def _lookup_handle(self, handle: str) -> str:
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
            response = await self._get(url, min(self._max_bytes, WELL_KNOWN_DID_MAX_BYTES), headers)
        except _HostUnreachable as exc:
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
            response = await self._get(url, self._max_bytes, {"Accept": "application/json"})
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

    # -- DID → document -----------------------------------------------------------------

    async def _fetch_document(self, did: str) -> DidDocument:
        if did.startswith("did:plc:"):
            url = f"{self._plc_url}/{did}"
        else:
            host = did_web_host(did)
            # A local did:web server has no certificate; plain http only for localhost on
            # the development network (a port is refused elsewhere, see _check_did).
            local = self._dev_network and host.split(":", 1)[0] == "localhost"
            url = f"{'http' if local else 'https'}://{host}/.well-known/did.json"
        try:
            response = await self._get(url, self._max_bytes, {"Accept": "application/json"})
        except ResponseTooLarge:
            raise InvalidDidDocument(
                f"the DID document of {did} is larger than {self._max_bytes} bytes"
            ) from None
        if response.status_code == 404:
            raise DidNotFound(f"no DID document exists for {did}")
        if response.status_code == 410:
            raise DidNotFound(f"the DID {did} has been deactivated or deleted")
        if response.status_code >= 500 or response.status_code == 429:
            raise IdentityUnavailable(f"{url} answered {response.status_code}; try again later")
        if response.status_code != 200:
            raise DidNotFound(f"no DID document for {did} ({url} answered {response.status_code})")
        try:
            data = json.loads(response.content)
        except ValueError:
            raise InvalidDidDocument(f"the DID document of {did} is not valid JSON") from None
        return parse_did_document(did, data, allow_http_pds=self._dev_network)

    # -- DID → identity -----------------------------------------------------------------

    async def _resolve_did_identity(self, did: str) -> Identity:
        document = await self.resolve_did(did)
        handle = document.handle
        if handle is not None:
            try:
                verified = await self.resolve_handle(handle) == document.id
            except IdentityError as exc:
                log.debug("handle %s of %s does not verify: %s", handle, did, exc)
                verified = False
            if not verified:
                handle = None
        return Identity(did=document.id, handle=handle, pds_url=document.pds_url, document=document)

    # -- HTTP ---------------------------------------------------------------------------

    async def _get(self, url: str, max_bytes: int, headers: Mapping[str, str]) -> Fetched:
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
            raise _HostUnreachable(f"cannot connect to {host}: {exc}") from None
        except httpx.HTTPError as exc:
            raise IdentityUnavailable(f"{host} failed to answer: {exc}") from None
        except ValueError as exc:  # e.g. a compressed body we did not ask for
            raise IdentityUnavailable(f"{host} sent an unusable answer: {exc}") from None
        if url.startswith("https://") and not fetched.url.startswith("https://"):
            # A redirect from https to plain http would let anyone on the path answer.
            raise IdentityBlocked(fetched.url, "redirected from https to plain http")
        return fetched


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


def _host_of(url: str) -> str:
    try:
        return httpx.URL(url).host or url
    except httpx.InvalidURL:
        return url


def _preview(value: object) -> str:
    shown = repr(value)
    return shown if len(shown) <= 80 else shown[:77] + "..."
