"""XRPC over HTTP: calls to a PDS, authentication strategies, and typed errors.

Two ways to authenticate: an app-password session (`PasswordSession`, for tests and tools)
and OAuth DPoP-bound tokens (`DPoPAuth`, what signed-in users have). Both plug into
`XrpcClient`, which retries once when the server asks for a fresh DPoP nonce or a token
was refreshed.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import urlsplit, urlunsplit

import anyio
import httpx
from joserfc import jwt
from joserfc.jwk import ECKey

log = logging.getLogger(__name__)

MAX_ERROR_BODY = 4096


class XrpcError(Exception):
    """A PDS answered with an error, or could not be reached."""

    def __init__(self, method: str, status: int, error: str, message: str) -> None:
        self.method = method
        self.status = status
        self.error = error
        self.message = message
        super().__init__(f"{method}: {status} {error}: {message}".rstrip(": "))


class RecordNotFound(XrpcError):
    pass


class ScopeMissing(XrpcError):
    """The token does not grant this write (a granular OAuth scope is missing)."""


class PayloadTooLarge(XrpcError):
    pass


class AuthenticationFailed(XrpcError):
    """The session or token is no longer accepted; the user must sign in again."""


class InvalidRequest(XrpcError):
    """The PDS refused the input (bad record, bad parameters)."""


class PdsUnavailable(XrpcError):
    """The PDS is down, timed out, or answered 5xx; the call may succeed later."""


class Conflict(XrpcError):
    """A swap (compare-and-set) failed: the record changed since it was read."""


def classify(method: str, status: int, body: dict[str, Any]) -> XrpcError:
    error = str(body.get("error") or "")
    message = str(body.get("message") or "")[:500]
    text = f"{error} {message}".lower()
    if status == 413 or error in {"BlobTooLarge", "PayloadTooLarge"}:
        cls: type[XrpcError] = PayloadTooLarge
    elif status >= 500 or status == 429:
        cls = PdsUnavailable
    elif status == 403 and ("scope" in text or error == "InsufficientScope"):
        cls = ScopeMissing
    elif status in {401, 403}:
        cls = AuthenticationFailed
    elif error in {"RecordNotFound", "RepoNotFound"} or (
        status == 400 and "could not locate record" in text
    ):
        cls = RecordNotFound
    elif error == "InvalidSwap":
        cls = Conflict
    elif status == 404:
        cls = RecordNotFound
    else:
        cls = InvalidRequest
    return cls(method, status, error or f"HTTP{status}", message)


class Auth(Protocol):
    """How requests to one PDS are authorised."""

    async def authorise(self, request: httpx.Request) -> None:
        """Add the credentials (and proofs) to a request about to be sent."""
        ...

    async def should_retry(self, request: httpx.Request, response: httpx.Response) -> bool:
        """Learn from a response; True when the same request should be sent again once."""
        ...


class NoAuth:
    async def authorise(self, request: httpx.Request) -> None:
        return None

    async def should_retry(self, request: httpx.Request, response: httpx.Response) -> bool:
        return False


@dataclass
class XrpcClient:
    """Calls `/xrpc/<method>` on one service with one Auth."""

    http: httpx.AsyncClient
    service_url: str
    auth: Auth = field(default_factory=NoAuth)

    def url(self, method: str) -> str:
        return f"{self.service_url.rstrip('/')}/xrpc/{method}"

    async def query(self, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        clean = {key: value for key, value in (params or {}).items() if value is not None}
        response = await self._send(
            method, lambda: self.http.build_request("GET", self.url(method), params=clean)
        )
        return _json(method, response)

    async def procedure(
        self,
        method: str,
        body: dict[str, Any] | None = None,
        *,
        content: bytes | None = None,
        content_type: str | None = None,
    ) -> dict[str, Any]:
        def build() -> httpx.Request:
            if content is not None:
                return self.http.build_request(
                    "POST",
                    self.url(method),
                    content=content,
                    headers={"content-type": content_type or "application/octet-stream"},
                )
            return self.http.build_request("POST", self.url(method), json=body or {})

        return _json(method, await self._send(method, build))

    async def _send(self, method: str, build: Callable[[], httpx.Request]) -> httpx.Response:
        for attempt in (1, 2):
            request = build()
            await self.auth.authorise(request)
            try:
                response = await self.http.send(request)
            except httpx.TimeoutException as exc:
                raise PdsUnavailable(method, 0, "Timeout", f"{self.service_url} timed out") from exc
            except httpx.TransportError as exc:
                raise PdsUnavailable(
                    method, 0, "Unreachable", f"cannot reach {self.service_url}: {exc}"
                ) from exc
            if response.is_success:
                await self.auth.should_retry(request, response)  # keeps the newest nonce
                return response
            if attempt == 1 and await self.auth.should_retry(request, response):
                continue
            raise classify(method, response.status_code, _error_body(response))
        raise AssertionError("unreachable")


def _json(method: str, response: httpx.Response) -> dict[str, Any]:
    if not response.content:
        return {}
    try:
        data = response.json()
    except ValueError as exc:
        raise InvalidRequest(method, response.status_code, "BadResponse", "not JSON") from exc
    if not isinstance(data, dict):
        raise InvalidRequest(method, response.status_code, "BadResponse", "not a JSON object")
    return data


def _error_body(response: httpx.Response) -> dict[str, Any]:
    try:
        data = response.json()
    except ValueError:
        return {"message": response.text[:MAX_ERROR_BODY]}
    return data if isinstance(data, dict) else {}


# --- app-password sessions ------------------------------------------------------------


@dataclass
class PasswordSession:
    """`com.atproto.server.createSession` tokens; refreshed once when the access token expires.

    For tests, scripts and operators: users sign in through OAuth, never with passwords.
    """

    http: httpx.AsyncClient
    service_url: str
    did: str
    handle: str
    access_jwt: str
    refresh_jwt: str
    _lock: anyio.Lock = field(default_factory=anyio.Lock, repr=False)

    @classmethod
    async def create(
        cls, http: httpx.AsyncClient, service_url: str, identifier: str, password: str
    ) -> PasswordSession:
        client = XrpcClient(http, service_url)
        data = await client.procedure(
            "com.atproto.server.createSession", {"identifier": identifier, "password": password}
        )
        return cls(
            http, service_url, data["did"], data["handle"], data["accessJwt"], data["refreshJwt"]
        )

    async def authorise(self, request: httpx.Request) -> None:
        request.headers["authorization"] = f"Bearer {self.access_jwt}"

    async def should_retry(self, request: httpx.Request, response: httpx.Response) -> bool:
        if response.status_code not in {400, 401}:
            return False
        if _error_body(response).get("error") != "ExpiredToken":
            return False
        used = request.headers.get("authorization", "").removeprefix("Bearer ")
        async with self._lock:
            if used == self.access_jwt:  # nobody refreshed while we waited
                await self._refresh()
        return True

    async def _refresh(self) -> None:
        response = await self.http.post(
            f"{self.service_url.rstrip('/')}/xrpc/com.atproto.server.refreshSession",
            headers={"authorization": f"Bearer {self.refresh_jwt}"},
        )
        if not response.is_success:
            raise classify(
                "com.atproto.server.refreshSession", response.status_code, _error_body(response)
            )
        data = response.json()
        self.access_jwt = data["accessJwt"]
        self.refresh_jwt = data["refreshJwt"]


# --- OAuth DPoP-bound tokens ----------------------------------------------------------


def new_dpop_key() -> ECKey:
    """A fresh P-256 key; each OAuth session gets its own."""
    return ECKey.generate_key("P-256", private=True, auto_kid=True)


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def dpop_htu(url: str) -> str:
    """The `htu` claim: the request URL without query and fragment."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))


def dpop_proof(
    key: ECKey,
    method: str,
    url: str,
    *,
    nonce: str | None = None,
    access_token: str | None = None,
    now: float | None = None,
) -> str:
    """A DPoP proof JWT (RFC 9449) signed with ES256."""
    header = {"typ": "dpop+jwt", "alg": "ES256", "jwk": key.as_dict(private=False)}
    claims: dict[str, Any] = {
        "jti": secrets.token_urlsafe(16),
        "htm": method.upper(),
        "htu": dpop_htu(url),
        "iat": int(now if now is not None else time.time()),
    }
    if nonce:
        claims["nonce"] = nonce
    if access_token:
        claims["ath"] = _b64url(hashlib.sha256(access_token.encode()).digest())
    return jwt.encode(header, claims, key, algorithms=["ES256"])


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def wants_new_nonce(response: httpx.Response) -> bool:
    """Authorization servers answer 400 `use_dpop_nonce`; resource servers 401 + header."""
    if response.status_code == 401:
        challenge = response.headers.get("www-authenticate", "")
        if "use_dpop_nonce" in challenge:
            return True
    if response.status_code in {400, 401}:
        return bool(_error_body(response).get("error") == "use_dpop_nonce")
    return False


@dataclass
class DPoPNonces:
    """The newest nonce each server handed out (servers rotate them every few minutes)."""

    by_origin: dict[str, str] = field(default_factory=dict)

    def get(self, url: str) -> str | None:
        return self.by_origin.get(_origin(url))

    def learn(self, url: str, response: httpx.Response) -> bool:
        nonce = str(response.headers.get("dpop-nonce") or "")
        if not nonce:
            return False
        changed = self.by_origin.get(_origin(url)) != nonce
        self.by_origin[_origin(url)] = nonce
        return changed


TokenRefresher = Callable[[], Awaitable[str]]


@dataclass
class DPoPAuth:
    """Authorises requests with `Authorization: DPoP <token>` and a fresh proof each time.

    `refresh` (given by the OAuth session) returns a new access token; it is called once
    when the PDS says the token expired.
    """

    access_token: str
    key: ECKey
    nonces: DPoPNonces = field(default_factory=DPoPNonces)
    refresh: TokenRefresher | None = None

    async def authorise(self, request: httpx.Request) -> None:
        url = str(request.url)
        request.headers["authorization"] = f"DPoP {self.access_token}"
        request.headers["dpop"] = dpop_proof(
            self.key,
            request.method,
            url,
            nonce=self.nonces.get(url),
            access_token=self.access_token,
        )

    async def should_retry(self, request: httpx.Request, response: httpx.Response) -> bool:
        url = str(request.url)
        self.nonces.learn(url, response)
        if wants_new_nonce(response):
            return True
        if response.status_code == 401 and self.refresh is not None:
            challenge = response.headers.get("www-authenticate", "").lower()
            error = str(_error_body(response).get("error", "")).lower()
            if "invalid_token" in challenge or error in {"invalid_token", "expiredtoken"}:
                self.access_token = await self.refresh()
                return True
        return False
