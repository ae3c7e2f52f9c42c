"""Who plyr is to an authorization server: client id, metadata, scopes, and its own key.

Two modes:
- *loopback* (development): client_id `http://localhost?redirect_uri=…&scope=…`, a public
  client the PDS accepts without fetching anything; sessions are short (the PDS's limit).
- *confidential* (production): client_id is `<public url>/oauth-client-metadata.json`,
  the token endpoint is authenticated with a `private_key_jwt` assertion signed by plyr's
  ES256 key, whose public half is served at `/.well-known/jwks.json`.

Scopes: plyr's collections one by one, or the same as its permission set
(`include:<namespace>.authFullApp`), plus blob uploads, and what the user turned on
(teal.fm scrobbles, Bluesky posts). What a server granted is compared by meaning
(`plyr.auth.scopes`): it expands an include into its own spelling of the set's permissions.
"""

from __future__ import annotations

import json
import os
import secrets
import time
from dataclasses import dataclass
from datetime import timedelta
from functools import cached_property
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlencode, urlsplit

from joserfc import jwt
from joserfc.jwk import ECKey

from plyr.atproto.lexicon import UnknownLexiconError, load_lexicons
from plyr.auth import scopes
from plyr.auth.scopes import PermissionSetLookup
from plyr.config import Settings

CALLBACK_PATH = "/oauth/callback"
METADATA_PATH = "/oauth-client-metadata.json"
JWKS_PATH = "/.well-known/jwks.json"
KEY_FILE = "oauth-key.json"

# What plyr writes in a user's repository; `repo:<collection>` each.
WRITTEN_COLLECTIONS = ("track", "like", "comment", "list", "actor.profile")
# Uploads: a permission set cannot hold these (blobs have no namespace), so they are asked
# for beside it as well.
BLOB_SCOPES = ("blob:audio/*", "blob:image/*")
# plyr's permission set (`<namespace>.authFullApp`, src/plyr/lexicons/fm/plyr/authFullApp.json):
# the same repo permissions as WRITTEN_COLLECTIONS under one name the consent page shows.
PERMISSION_SET_NAME = "authFullApp"
# Sharing a track to Bluesky: one post (created, never edited) and its link card's image.
SHARE_SCOPES = ("repo:app.bsky.feed.post?action=create", "blob:image/*")


def permission_set_nsid(settings: Settings) -> str:
    return f"{settings.atproto_namespace}.{PERMISSION_SET_NAME}"


def base_scopes(settings: Settings, *, permission_set: bool = False) -> list[str]:
    """What every sign-in asks for: plyr's collections, either one by one or as plyr's
    permission set, and the uploads."""
    if permission_set:
        return ["atproto", f"include:{permission_set_nsid(settings)}", *BLOB_SCOPES]
    namespace = settings.atproto_namespace
    return [
        "atproto",
        *(f"repo:{namespace}.{name}" for name in WRITTEN_COLLECTIONS),
        *BLOB_SCOPES,
    ]


def scrobble_scopes(settings: Settings) -> list[str]:
    return [f"repo:{settings.teal_play_collection}", f"repo:{settings.teal_status_collection}"]


def share_scopes() -> list[str]:
    return list(SHARE_SCOPES)


def scopes_for(
    settings: Settings, *, scrobbling: bool, sharing: bool = False, permission_set: bool = False
) -> str:
    """The scope of one authorization: the base, plus teal.fm scrobbles and Bluesky posts
    when the user turned them on (each a scope upgrade). No scope twice."""
    asked = base_scopes(settings, permission_set=permission_set)
    if scrobbling:
        asked += scrobble_scopes(settings)
    if sharing:
        asked += share_scopes()
    return " ".join(dict.fromkeys(asked))


def permission_sets(settings: Settings) -> PermissionSetLookup:
    """plyr's own permission sets from the shipped lexicons (the ones it asks for)."""
    registry = load_lexicons(settings.atproto_namespace)

    def lookup(nsid: str) -> list[dict[str, Any]] | None:
        try:
            return registry.permission_set(nsid)
        except UnknownLexiconError:
            return None

    return lookup


def missing_scopes(requested: str, granted: str, settings: Settings | None = None) -> list[str]:
    """What was asked for and not granted (order kept, so messages are stable); an
    `include:` of plyr's permission set counts as granted when all it holds was."""
    if settings is None:
        return scopes.missing(requested, granted)
    return scopes.missing(requested, granted, permission_sets(settings))


def grants(settings: Settings, scope: str | None, wanted: list[str]) -> bool:
    """Whether a grant's scope allows everything in `wanted`."""
    return not missing_scopes(" ".join(wanted), scope or "", settings)


def _is_loopback_url(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    return host in {"127.0.0.1", "localhost", "::1"}


@dataclass(frozen=True)
class OAuthClient:
    settings: Settings

    @property
    def mode(self) -> Literal["loopback", "confidential"]:
        configured = self.settings.oauth_client_mode
        if configured != "auto":
            return configured
        return "loopback" if _is_loopback_url(self.settings.public_url) else "confidential"

    @property
    def session_lifetime(self) -> timedelta:
        """How long a browser stays signed in: what the server grants this kind of client
        (public clients two weeks, confidential ones up to 180 days), unless configured."""
        if self.settings.session_days is not None:
            return timedelta(days=self.settings.session_days)
        return timedelta(days=180 if self.confidential else 14)

    @property
    def redirect_uri(self) -> str:
        public = self.settings.public_url
        if self.mode == "loopback":
            # Loopback redirects must use the IP literal, not `localhost` (RFC 8252).
            parts = urlsplit(public)
            port = f":{parts.port}" if parts.port else ""
            return f"http://127.0.0.1{port}{CALLBACK_PATH}"
        return f"{public}{CALLBACK_PATH}"

    @property
    def all_scopes(self) -> str:
        """Every scope plyr may ever ask for, in both forms (the permission set or its
        collections one by one): a server refuses a scope its client metadata lacks."""
        with_set = scopes_for(self.settings, scrobbling=True, sharing=True, permission_set=True)
        one_by_one = scopes_for(self.settings, scrobbling=True, sharing=True)
        return " ".join(dict.fromkeys([*one_by_one.split(), *with_set.split()]))

    def missing_scopes(self, requested: str, granted: str) -> list[str]:
        return missing_scopes(requested, granted, self.settings)

    @property
    def client_id(self) -> str:
        if self.mode == "loopback":
            query = urlencode({"redirect_uri": self.redirect_uri, "scope": self.all_scopes})
            return f"http://localhost?{query}"
        return f"{self.settings.public_url}{METADATA_PATH}"

    @property
    def confidential(self) -> bool:
        return self.mode == "confidential"

    def metadata(self) -> dict[str, Any]:
        """The client metadata document served at METADATA_PATH."""
        public = self.settings.public_url
        document: dict[str, Any] = {
            "client_id": self.client_id,
            "client_name": self.settings.oauth_client_name,
            "client_uri": public,
            "logo_uri": f"{public}/static/favicon.svg",
            "redirect_uris": [self.redirect_uri],
            "grant_types": ["authorization_code", "refresh_token"],
            "response_types": ["code"],
            "scope": self.all_scopes,
            "dpop_bound_access_tokens": True,
            "application_type": "web",
        }
        if self.confidential:
            document |= {
                "token_endpoint_auth_method": "private_key_jwt",
                "token_endpoint_auth_signing_alg": "ES256",
                "jwks_uri": f"{public}{JWKS_PATH}",
            }
        else:
            document["token_endpoint_auth_method"] = "none"  # noqa: S105 - a method name
        return document

    @cached_property
    def signing_key(self) -> ECKey:
        return load_client_key(self.settings)

    def jwks(self) -> dict[str, Any]:
        public = self.signing_key.as_dict(private=False)
        return {"keys": [{**public, "use": "sig", "alg": "ES256"}]}

    def assertion(self, audience: str, *, now: float | None = None) -> str:
        """A `private_key_jwt` client assertion for the token/PAR/revoke endpoints."""
        issued = int(now if now is not None else time.time())
        key = self.signing_key
        header = {"alg": "ES256", "typ": "JWT", "kid": key.kid}
        claims = {
            "iss": self.client_id,
            "sub": self.client_id,
            "aud": audience,
            "jti": secrets.token_urlsafe(16),
            "iat": issued,
            "exp": issued + 60,
        }
        return jwt.encode(header, claims, key, algorithms=["ES256"])

    def authentication(self, issuer: str) -> dict[str, str]:
        """Client authentication fields for a request to `issuer`'s endpoints."""
        fields = {"client_id": self.client_id}
        if self.confidential:
            fields |= {
                "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                "client_assertion": self.assertion(issuer),
            }
        return fields


def load_client_key(settings: Settings) -> ECKey:
    """The ES256 key from PLYR_OAUTH_CLIENT_KEY, or generated once into the data folder."""
    if settings.oauth_client_key is not None:
        return _import_key(settings.oauth_client_key.get_secret_value(), "PLYR_OAUTH_CLIENT_KEY")
    path = settings.data_dir / KEY_FILE
    if path.exists():
        return _import_key(path.read_text(), str(path))
    key = ECKey.generate_key("P-256", private=True, auto_kid=True)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process made it first: use theirs
        return _import_key(path.read_text(), str(path))
    with open(fd, "w") as handle:
        json.dump(key.as_dict(private=True), handle)
    return key


def _import_key(text: str, source: str) -> ECKey:
    try:
        key = ECKey.import_key(json.loads(text))
    except (ValueError, TypeError) as exc:
        raise ValueError(f"{source} is not an EC private JWK") from exc
    if key.as_dict(private=False).get("crv") != "P-256" or not key.is_private:
        raise ValueError(f"{source} must be a P-256 private key (ES256)")
    if not key.kid:
        key.ensure_kid()
    return key


def key_file(settings: Settings) -> Path:
    return settings.data_dir / KEY_FILE
