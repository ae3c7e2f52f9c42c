"""Signing in and re-authorizing, apart from HTTP.

`begin` starts an authorization at the user's own server (PAR, PKCE, DPoP) and remembers it
for ten minutes; the callback takes it back once (`take_request`) and `finish` completes it:
the issuer check, the code exchange and its checks, the artist row. What the new grant
becomes depends on the purpose it was started for: `login` (a browser session), `upgrade`
(scrobbling or sharing to Bluesky on or off: a browser session with other scopes) or
`dev_token`.

The scope asked for is plyr's base (its permission set or its collections one by one, as
`PLYR_OAUTH_PERMISSION_SET` says) plus what the user turned on (`Wants`). In `auto`, a
server that refuses the permission set at PAR (`invalid_scope`: it cannot resolve the
set) is asked again at once with the collections one by one; one that grants less than
the set holds (an old copy of the set published, or no support for sets) gets a second
authorization the same way (`PermissionSetIgnored`, `restart_without_set`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from joserfc.jwk import ECKey

from plyr.artists import sync_artist
from plyr.atproto.identity import IdentityError
from plyr.auth import oauth
from plyr.auth.client import (
    OAuthClient,
    grants,
    permission_set_nsid,
    scopes_for,
    scrobble_scopes,
    share_scopes,
)
from plyr.auth.encryption import SecretsUnreadable, open_sealed, seal
from plyr.auth.sessions import create_session, dev_tokens, end_session
from plyr.config import Settings
from plyr.db.models import Artist, AuthSession, OAuthRequest, SessionKind, utcnow
from plyr.runtime import Runtime

log = logging.getLogger(__name__)

REQUEST_LIFETIME = timedelta(minutes=10)
TOKEN_DAYS = (30, 90, 180, 365)


class SignInFailed(Exception):
    """The authorization did not complete; `message` is written for the user."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True, slots=True)
class Authorized:
    """A completed authorization: the tokens, who they belong to, and where they came from."""

    pending: OAuthRequest
    tokens: oauth.TokenSet
    server: oauth.AuthServer
    artist: Artist
    dpop_key: ECKey
    session_lifetime: timedelta


def token_days_choice(value: str) -> int | None:
    """A developer token's lifetime as the settings form offers it; ValueError otherwise."""
    if value == "never":
        return None
    days = int(value)
    if days not in TOKEN_DAYS:
        raise ValueError(value)
    return days


@dataclass(frozen=True, slots=True)
class Wants:
    """What an authorization asks for beyond plyr's base scopes."""

    scrobbling: bool = False  # teal.fm plays and status
    sharing: bool = False  # Bluesky posts (share a track)


class PermissionSetIgnored(SignInFailed):
    """The server granted less than plyr's permission set holds (auto mode): sign in again
    asking for the collections one by one (`restart_without_set`)."""


def client_scrobbles(settings: Settings, scope: str | None) -> bool:
    """Whether a grant with this scope may write teal.fm scrobbles."""
    return grants(settings, scope, scrobble_scopes(settings))


def client_shares(settings: Settings, scope: str | None) -> bool:
    """Whether a grant with this scope may post to Bluesky (share a track)."""
    return grants(settings, scope, share_scopes())


def wants_of(settings: Settings, scope: str | None) -> Wants:
    """What a grant was given beyond the base: an upgrade keeps it unless it changes it."""
    return Wants(client_scrobbles(settings, scope), client_shares(settings, scope))


def scope_choices(settings: Settings, wants: Wants, *, permission_set: bool = True) -> list[str]:
    """The scopes to ask for, in order: the next is tried when the server refuses one."""

    def scope(with_set: bool) -> str:
        return scopes_for(
            settings, scrobbling=wants.scrobbling, sharing=wants.sharing, permission_set=with_set
        )

    mode = settings.oauth_permission_set
    if mode == "off" or not permission_set:
        return [scope(False)]
    if mode == "on":
        return [scope(True)]
    return [scope(True), scope(False)]


async def begin(
    runtime: Runtime,
    *,
    identifier: str,
    purpose: str,
    wants: Wants | None = None,
    session_id: str | None = None,
    token_name: str | None = None,
    token_days: int | None = None,
    return_to: str | None = None,
    permission_set: bool = True,
) -> str:
    """Start an authorization and remember it; returns the URL to send the browser to.
    `permission_set=False` asks for plyr's collections one by one whatever the setting."""
    client = OAuthClient(runtime.settings)
    choices = scope_choices(runtime.settings, wants or Wants(), permission_set=permission_set)
    started: oauth.Authorization | None = None
    for scope in choices:
        try:
            started = await oauth.start(client, runtime.http, runtime.identity, identifier, scope)
            break
        except oauth.ScopeRefused:
            if scope == choices[-1]:
                raise
            log.info(
                "the server refused %s; asking for plyr's collections one by one",
                permission_set_nsid(runtime.settings),
            )
    assert started is not None
    sealed = seal(
        runtime.settings.secret_key_bytes(),
        {"verifier": started.verifier, "dpop_key": started.dpop_key.as_dict(private=True)},
    )
    async with runtime.sessions() as db:
        db.add(
            OAuthRequest(
                state=started.state,
                purpose=purpose,
                issuer=started.server.issuer,
                expected_did=started.expected_did,
                scope=started.scope,
                secrets=sealed,
                session_id=session_id,
                token_name=token_name,
                token_days=token_days,
                return_to=return_to,
                expires_at=utcnow() + REQUEST_LIFETIME,
            )
        )
        await db.commit()
    return started.url


async def restart_without_set(runtime: Runtime, pending: OAuthRequest) -> str:
    """The same authorization again (purpose, session, token, return address), asking for
    plyr's collections one by one; returns the URL to send the browser to."""
    return await begin(
        runtime,
        identifier=pending.expected_did or pending.issuer,
        purpose=pending.purpose,
        wants=wants_of(runtime.settings, pending.scope),
        session_id=pending.session_id,
        token_name=pending.token_name,
        token_days=pending.token_days,
        return_to=pending.return_to,
        permission_set=False,
    )


async def take_request(runtime: Runtime, state: str) -> OAuthRequest | None:
    """Fetch and delete the pending request: a state works once, and not after it expires."""
    if not state or len(state) > 64:
        return None
    async with runtime.sessions() as db:
        pending = await db.get(OAuthRequest, state)
        if pending is None:
            return None
        await db.delete(pending)
        await db.commit()
        db.expunge(pending)
    if pending.expires_at <= utcnow():
        return None
    return pending


async def finish(
    runtime: Runtime, pending: OAuthRequest, *, code: str | None, iss: str | None, error: str | None
) -> Authorized:
    """Complete the authorization the callback brought back; SignInFailed says why not."""
    if error is not None:
        if error == "access_denied":
            raise SignInFailed("you did not authorize plyr, so nothing changed")
        raise SignInFailed(f"the sign-in did not finish ({error[:60]})")
    if iss != pending.issuer:
        log.warning("callback with the wrong issuer", extra={"expected": pending.issuer})
        raise SignInFailed("the sign-in came back from the wrong server")
    if not code:
        raise SignInFailed("the sign-in came back without a code")
    try:
        held = open_sealed(runtime.settings.secret_key_bytes(), pending.secrets)
    except SecretsUnreadable:
        raise SignInFailed("this sign-in link has expired") from None
    client = OAuthClient(runtime.settings)
    dpop_key = ECKey.import_key(held["dpop_key"])
    try:
        server = await oauth.authorization_server(runtime.http, pending.issuer)
        tokens = await oauth.exchange_code(
            client,
            runtime.http,
            runtime.identity,
            server=server,
            code=code,
            verifier=held["verifier"],
            dpop_key=dpop_key,
            requested_scope=pending.scope,
            expected_did=pending.expected_did,
        )
        artist = await sync_artist(runtime, tokens.sub)
    except oauth.OAuthError as exc:
        if exc.code == "scope_missing" and _asked_for_set(runtime.settings, pending.scope):
            log.warning(
                "%s granted less than %s holds (%s); publish it again (`plyr lexicons "
                "publish`) or set PLYR_OAUTH_PERMISSION_SET=off",
                pending.issuer,
                permission_set_nsid(runtime.settings),
                exc.message,
            )
            raise PermissionSetIgnored(exc.message) from exc
        raise SignInFailed(exc.message) from exc
    except IdentityError as exc:
        raise SignInFailed(str(exc)) from exc
    return Authorized(pending, tokens, server, artist, dpop_key, client.session_lifetime)


def _asked_for_set(settings: Settings, scope: str) -> bool:
    """Whether an authorization asked for plyr's permission set in auto mode (where a
    second one without it is the fallback)."""
    return (
        settings.oauth_permission_set == "auto"
        and f"include:{permission_set_nsid(settings)}" in scope.split()
    )


async def start_session(
    runtime: Runtime,
    done: Authorized,
    *,
    kind: SessionKind = SessionKind.browser,
    name: str | None = None,
    lifetime: timedelta | None = None,
) -> str:
    """A session (or developer token) holding the new grant; returns its secret, once.
    A browser session lives as long as the client's sessions may (`session_lifetime`)."""
    return await create_session(
        runtime,
        kind=kind,
        tokens=done.tokens,
        server=done.server,
        pds_url=done.artist.pds_url,
        dpop_key=done.dpop_key,
        name=name,
        lifetime=done.session_lifetime if kind == SessionKind.browser else lifetime,
    )


async def requesting_session(runtime: Runtime, pending: OAuthRequest) -> AuthSession | None:
    """The browser session that asked for an upgrade or a developer token, if it still exists."""
    if pending.session_id is None:
        return None
    async with runtime.sessions() as db:
        owner = await db.get(AuthSession, pending.session_id)
        if owner is not None:
            db.expunge(owner)
        return owner


async def revoke_dev_token(runtime: Runtime, did: str, token_id: str) -> bool:
    """End the caller's developer token named by the start of its id (16 characters at
    least, as the settings page shows it); False when there is no such token."""
    for token in await dev_tokens(runtime, did):
        if token.id.startswith(token_id) and len(token_id) >= 16:
            await end_session(runtime, token.id)
            return True
    return False
