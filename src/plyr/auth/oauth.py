"""The atproto profile of OAuth 2.1, client side: discovery, PAR + PKCE + DPoP, the code
exchange with its checks, refresh and revocation.

Every URL here comes from a user (their handle, their PDS, its authorization server), so
all requests go through the guarded client (private addresses refused in production).
"""

from __future__ import annotations

import base64
import hashlib
import logging
import secrets
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit

import httpx
from joserfc.jwk import ECKey

from plyr.atproto.identity import IdentityError, IdentityResolver
from plyr.atproto.syntax import is_valid_did
from plyr.atproto.xrpc import DPoPNonces, dpop_proof, new_dpop_key
from plyr.auth.client import OAuthClient

log = logging.getLogger(__name__)

METADATA_MAX_BYTES = 64 * 1024
METADATA_CACHE_SECONDS = 600
# One nonce store per process: servers hand out nonces per origin, and any of our DPoP
# keys may use the newest one.
NONCES = DPoPNonces()


class OAuthError(Exception):
    """Sign-in failed; `message` is fit to show the user, `code` is stable for tests/APIs."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class InvalidGrant(OAuthError):
    """The server no longer honours this grant (refresh token revoked, expired or reused)."""


class ScopeRefused(OAuthError):
    """The server refused the requested scope at PAR (`invalid_scope`): e.g. an `include:`
    of a permission set it cannot resolve. Another scope may still be accepted."""


@dataclass(frozen=True, slots=True)
class AuthServer:
    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    par_endpoint: str
    revocation_endpoint: str | None


@dataclass(frozen=True, slots=True)
class TokenSet:
    access_token: str
    refresh_token: str | None
    expires_at: float  # unix time
    scope: str
    sub: str


@dataclass(frozen=True, slots=True)
class Authorization:
    """A started authorization: where to send the browser, and what to keep until it returns."""

    url: str
    state: str
    verifier: str
    dpop_key: ECKey
    server: AuthServer
    scope: str
    expected_did: str | None
    expires_in: int


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    return verifier, _b64url(hashlib.sha256(verifier.encode()).digest())


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


async def _get_json(http: httpx.AsyncClient, url: str, what: str) -> dict[str, Any]:
    try:
        response = await http.get(url, headers={"Accept": "application/json"})
    except httpx.HTTPError as exc:
        raise OAuthError("server_unreachable", f"cannot reach {_origin(url)} ({what})") from exc
    except ValueError as exc:  # netguard: a private address outside development
        raise OAuthError("server_blocked", f"{_origin(url)} is not a public address") from exc
    if response.status_code != 200 or len(response.content) > METADATA_MAX_BYTES:
        raise OAuthError(
            "server_misconfigured",
            f"{_origin(url)} did not serve its {what} (HTTP {response.status_code})",
        )
    try:
        data = response.json()
    except ValueError:
        data = None
    if not isinstance(data, dict):
        raise OAuthError("server_misconfigured", f"{_origin(url)} served an invalid {what}")
    return data


_server_cache: dict[str, tuple[float, AuthServer]] = {}


async def authorization_server(http: httpx.AsyncClient, issuer: str) -> AuthServer:
    """Fetch and check an issuer's metadata (cached for a few minutes)."""
    cached = _server_cache.get(issuer)
    if cached and cached[0] > time.monotonic():
        return cached[1]
    data = await _get_json(
        http, f"{issuer}/.well-known/oauth-authorization-server", "authorization server metadata"
    )
    if data.get("issuer") != issuer:
        raise OAuthError("server_misconfigured", f"{issuer} claims to be {data.get('issuer')!r}")
    required = ("authorization_endpoint", "token_endpoint", "pushed_authorization_request_endpoint")
    if any(not isinstance(data.get(key), str) for key in required):
        raise OAuthError("server_misconfigured", f"{issuer} does not support pushed requests")
    if "S256" not in data.get("code_challenge_methods_supported", []):
        raise OAuthError("server_misconfigured", f"{issuer} does not support PKCE S256")
    if "ES256" not in data.get("dpop_signing_alg_values_supported", []):
        raise OAuthError("server_misconfigured", f"{issuer} does not support DPoP with ES256")
    server = AuthServer(
        issuer=issuer,
        authorization_endpoint=data["authorization_endpoint"],
        token_endpoint=data["token_endpoint"],
        par_endpoint=data["pushed_authorization_request_endpoint"],
        revocation_endpoint=data.get("revocation_endpoint"),
    )
    _server_cache[issuer] = (time.monotonic() + METADATA_CACHE_SECONDS, server)
    return server


async def issuer_of_pds(http: httpx.AsyncClient, pds_url: str) -> str:
    data = await _get_json(
        http, f"{pds_url.rstrip('/')}/.well-known/oauth-protected-resource", "resource metadata"
    )
    servers = data.get("authorization_servers")
    if not isinstance(servers, list) or not servers or not isinstance(servers[0], str):
        raise OAuthError("server_misconfigured", f"{pds_url} names no authorization server")
    return servers[0].rstrip("/")


async def _dpop_post(
    http: httpx.AsyncClient, url: str, form: dict[str, str], key: ECKey
) -> httpx.Response:
    """POST a form with a DPoP proof; retry once with the nonce the server asks for."""
    for attempt in (1, 2):
        proof = dpop_proof(key, "POST", url, nonce=NONCES.get(url))
        try:
            response = await http.post(url, data=form, headers={"DPoP": proof})
        except httpx.HTTPError as exc:
            raise OAuthError("server_unreachable", f"cannot reach {_origin(url)}") from exc
        NONCES.learn(url, response)
        if attempt == 1 and response.status_code in (400, 401):
            try:
                error = response.json().get("error")
            except ValueError:
                error = None
            if error == "use_dpop_nonce":
                continue
        return response
    raise AssertionError("unreachable")


def _error_of(response: httpx.Response) -> tuple[str, str]:
    try:
        data = response.json()
    except ValueError:
        data = {}
    if not isinstance(data, dict):
        data = {}
    return str(data.get("error") or f"http_{response.status_code}"), str(
        data.get("error_description") or ""
    )


async def start(
    client: OAuthClient,
    http: httpx.AsyncClient,
    identity: IdentityResolver,
    identifier: str,
    scope: str,
) -> Authorization:
    """Resolve who is signing in, find their authorization server, push the request."""
    identifier = identifier.strip().removeprefix("@")
    expected_did: str | None = None
    login_hint: str | None = None
    if identifier.startswith(("https://", "http://")):
        pds_url = identifier.rstrip("/")
    else:
        try:
            who = await identity.resolve(identifier)
        except IdentityError as exc:
            raise OAuthError("unknown_account", str(exc)) from exc
        pds_url = who.pds_url
        expected_did = who.did
        login_hint = who.handle or who.did
    issuer = await issuer_of_pds(http, pds_url)
    server = await authorization_server(http, issuer)

    verifier, challenge = pkce_pair()
    state = secrets.token_urlsafe(32)
    key = new_dpop_key()
    form = {
        "response_type": "code",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        "state": state,
        "redirect_uri": client.redirect_uri,
        "scope": scope,
        **client.authentication(server.issuer),
    }
    if login_hint:
        form["login_hint"] = login_hint
    response = await _dpop_post(http, server.par_endpoint, form, key)
    if response.status_code not in (200, 201):
        error, description = _error_of(response)
        log.warning("PAR refused by %s: %s %s", issuer, error, description)
        kind = ScopeRefused if error == "invalid_scope" else OAuthError
        raise kind("authorization_refused", f"{issuer} refused the sign-in request ({error})")
    data = response.json()
    request_uri = data.get("request_uri")
    if not isinstance(request_uri, str):
        raise OAuthError("server_misconfigured", f"{issuer} sent no request_uri")
    url = f"{server.authorization_endpoint}?" + urlencode(
        {"client_id": client.client_id, "request_uri": request_uri}
    )
    return Authorization(
        url=url,
        state=state,
        verifier=verifier,
        dpop_key=key,
        server=server,
        scope=scope,
        expected_did=expected_did,
        expires_in=int(data.get("expires_in", 300)),
    )


def _token_set(data: dict[str, Any], server: AuthServer) -> TokenSet:
    if str(data.get("token_type", "")).lower() != "dpop":
        raise OAuthError("token_invalid", f"{server.issuer} issued a token that is not DPoP-bound")
    access = data.get("access_token")
    sub = data.get("sub")
    if not isinstance(access, str) or not isinstance(sub, str) or not is_valid_did(sub):
        raise OAuthError("token_invalid", f"{server.issuer} sent an incomplete token response")
    expires_in = data.get("expires_in")
    lifetime = float(expires_in) if isinstance(expires_in, int | float) else 300.0
    refresh = data.get("refresh_token")
    return TokenSet(
        access_token=access,
        refresh_token=refresh if isinstance(refresh, str) else None,
        expires_at=time.time() + lifetime,
        scope=str(data.get("scope", "")),
        sub=sub,
    )


async def exchange_code(
    client: OAuthClient,
    http: httpx.AsyncClient,
    identity: IdentityResolver,
    *,
    server: AuthServer,
    code: str,
    verifier: str,
    dpop_key: ECKey,
    requested_scope: str,
    expected_did: str | None,
) -> TokenSet:
    """Trade the code for tokens, then check who they are for and what they allow."""
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "code_verifier": verifier,
        "redirect_uri": client.redirect_uri,
        **client.authentication(server.issuer),
    }
    response = await _dpop_post(http, server.token_endpoint, form, dpop_key)
    if response.status_code != 200:
        error, description = _error_of(response)
        log.warning("code exchange refused by %s: %s %s", server.issuer, error, description)
        raise OAuthError("code_refused", f"{server.issuer} refused the sign-in ({error})")
    tokens = _token_set(response.json(), server)

    # The issuer must be the one the account's own PDS names: otherwise any server could
    # mint tokens claiming to be anyone.
    if expected_did is not None and tokens.sub != expected_did:
        raise OAuthError("wrong_account", "the server signed in a different account")
    try:
        document = await identity.resolve_did(tokens.sub)
    except IdentityError as exc:
        raise OAuthError("unknown_account", str(exc)) from exc
    if await issuer_of_pds(http, document.pds_url) != server.issuer:
        raise OAuthError(
            "wrong_issuer", f"{server.issuer} is not the authorization server of {tokens.sub}"
        )
    if "atproto" not in tokens.scope.split():
        raise OAuthError("scope_missing", "the server did not grant the atproto scope")
    missing = client.missing_scopes(requested_scope, tokens.scope)
    if missing:
        raise OAuthError(
            "scope_missing", "plyr was not granted what it needs: " + ", ".join(missing)
        )
    return tokens


async def refresh(
    client: OAuthClient,
    http: httpx.AsyncClient,
    *,
    server: AuthServer,
    refresh_token: str,
    dpop_key: ECKey,
) -> TokenSet:
    form = {
        "grant_type": "refresh_token",
        "refresh_token": refresh_token,
        **client.authentication(server.issuer),
    }
    response = await _dpop_post(http, server.token_endpoint, form, dpop_key)
    if response.status_code != 200:
        error, _description = _error_of(response)
        if error == "invalid_grant":
            raise InvalidGrant("session_ended", "this sign-in has ended; please sign in again")
        raise OAuthError("refresh_failed", f"{server.issuer} could not refresh ({error})")
    return _token_set(response.json(), server)


async def revoke(
    client: OAuthClient,
    http: httpx.AsyncClient,
    *,
    server: AuthServer,
    token: str,
    dpop_key: ECKey,
) -> bool:
    """Revoke a token at the server when it supports it; True when it said yes."""
    if not server.revocation_endpoint:
        return False
    form = {"token": token, **client.authentication(server.issuer)}
    try:
        response = await _dpop_post(http, server.revocation_endpoint, form, dpop_key)
    except OAuthError:
        return False
    return response.status_code == 200
