"""Sign-in building blocks, one function each: client metadata and assertions, scopes,
encryption at rest, rate limits, redirects after sign-in. The whole flow against the real
PDS, in a browser, is in tests/signin/."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
from joserfc import jwt
from joserfc.jwk import ECKey, KeySet

from plyr import ratelimit
from plyr.auth.client import OAuthClient, load_client_key, missing_scopes, scopes_for
from plyr.auth.encryption import SecretsUnreadable, open_sealed, seal
from plyr.auth.oauth import pkce_pair
from plyr.auth.signin import token_days_choice
from plyr.runtime import Runtime
from plyr.web.pages.signin import safe_next
from tests.conftest import make_settings

MEMORY = "sqlite+aiosqlite:///:memory:"


def test_loopback_client_for_local_public_urls(tmp_path: Path) -> None:
    client = OAuthClient(make_settings(tmp_path, MEMORY, public_url="http://127.0.0.1:8123"))
    assert client.mode == "loopback"
    assert client.redirect_uri == "http://127.0.0.1:8123/oauth/callback"
    assert client.client_id.startswith(
        "http://localhost?redirect_uri=http%3A%2F%2F127.0.0.1%3A8123"
    )
    assert "scope=atproto+repo%3Afm.plyr.track" in client.client_id
    metadata = client.metadata()
    assert metadata["token_endpoint_auth_method"] == "none"
    assert metadata["dpop_bound_access_tokens"] is True
    assert client.authentication("http://issuer") == {"client_id": client.client_id}
    assert client.session_lifetime.days == 14
    # localhost in the public URL still redirects to the IP literal (RFC 8252).
    other = OAuthClient(make_settings(tmp_path, MEMORY, public_url="http://localhost:9000"))
    assert other.redirect_uri == "http://127.0.0.1:9000/oauth/callback"


def test_confidential_client_metadata_and_assertion(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, MEMORY, public_url="https://plyr.example")
    client = OAuthClient(settings)
    assert client.mode == "confidential"
    metadata = client.metadata()
    assert metadata["client_id"] == "https://plyr.example/oauth-client-metadata.json"
    assert metadata["redirect_uris"] == ["https://plyr.example/oauth/callback"]
    assert metadata["token_endpoint_auth_method"] == "private_key_jwt"
    assert metadata["token_endpoint_auth_signing_alg"] == "ES256"
    assert metadata["jwks_uri"] == "https://plyr.example/.well-known/jwks.json"
    assert metadata["grant_types"] == ["authorization_code", "refresh_token"]
    assert client.session_lifetime.days == 180  # confidential clients get long sessions
    assert set(metadata["scope"].split()) >= {"atproto", "blob:audio/*", "blob:image/*"}

    jwks = client.jwks()
    assert all("d" not in key for key in jwks["keys"])
    fields = client.authentication("https://pds.example")
    assert fields["client_assertion_type"].endswith("jwt-bearer")
    keys = KeySet.import_key_set(jwks)
    token = jwt.decode(fields["client_assertion"], keys, algorithms=["ES256"])
    assert token.header["alg"] == "ES256"
    assert token.header["kid"] == jwks["keys"][0]["kid"]
    claims = token.claims
    assert claims["iss"] == claims["sub"] == client.client_id
    assert claims["aud"] == "https://pds.example"
    assert claims["exp"] - claims["iat"] == 60
    again = jwt.decode(
        client.authentication("https://pds.example")["client_assertion"],
        KeySet.import_key_set(jwks),
        algorithms=["ES256"],
    )
    assert again.claims["jti"] != claims["jti"]


def test_client_key_is_generated_once_private_and_reused(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, MEMORY)
    first = load_client_key(settings)
    path = settings.data_dir / "oauth-key.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_client_key(settings).as_dict(private=False) == first.as_dict(private=False)


def test_client_key_from_settings_and_bad_keys(tmp_path: Path) -> None:
    key = ECKey.generate_key("P-256", private=True)
    settings = make_settings(
        tmp_path, MEMORY, oauth_client_key=json.dumps(key.as_dict(private=True))
    )
    assert load_client_key(settings).as_dict(private=False)["x"] == key.as_dict()["x"]
    assert not (settings.data_dir / "oauth-key.json").exists()
    public_only = make_settings(
        tmp_path, MEMORY, oauth_client_key=json.dumps(key.as_dict(private=False))
    )
    with pytest.raises(ValueError, match="private key"):
        load_client_key(public_only)
    with pytest.raises(ValueError, match="not an EC private JWK"):
        load_client_key(make_settings(tmp_path, MEMORY, oauth_client_key="not json"))


def test_scopes_are_exactly_what_plyr_writes(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, MEMORY, atproto_namespace="fm.plyr.dev")
    assert scopes_for(settings, scrobbling=False).split() == [
        "atproto",
        "repo:fm.plyr.dev.track",
        "repo:fm.plyr.dev.like",
        "repo:fm.plyr.dev.comment",
        "repo:fm.plyr.dev.list",
        "repo:fm.plyr.dev.actor.profile",
        "blob:audio/*",
        "blob:image/*",
    ]
    with_teal = scopes_for(settings, scrobbling=True).split()
    assert with_teal[-2:] == ["repo:fm.teal.alpha.feed.play", "repo:fm.teal.alpha.actor.status"]
    assert missing_scopes("atproto repo:a blob:audio/*", "atproto blob:audio/*") == ["repo:a"]
    assert missing_scopes("atproto", "atproto transition:generic") == []


def test_pkce_pair_is_s256() -> None:
    import base64
    import hashlib

    verifier, challenge = pkce_pair()
    assert 43 <= len(verifier) <= 128
    digest = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=")
    assert challenge == digest.decode()
    assert pkce_pair()[0] != verifier


def test_sealed_secrets_round_trip_and_refuse_tampering() -> None:
    key = b"k" * 32
    sealed = seal(key, {"access_token": "secret-value", "n": 1})
    assert b"secret-value" not in sealed
    assert open_sealed(key, sealed) == {"access_token": "secret-value", "n": 1}
    with pytest.raises(SecretsUnreadable):
        open_sealed(b"another key", sealed)
    tampered = sealed[:-5] + (b"A" if sealed[-5:-4] != b"A" else b"B") + sealed[-4:]
    with pytest.raises(SecretsUnreadable):
        open_sealed(key, tampered)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("/settings", "/settings"),
        ("/t/1?x=2", "/t/1?x=2"),
        ("//evil.example/x", "/"),
        ("https://evil.example", "/"),
        ("/\\evil.example", "/"),
        ("", "/"),
        (None, "/"),
    ],
)
def test_only_local_paths_are_followed_after_sign_in(value: str | None, expected: str) -> None:
    assert safe_next(value) == expected


def test_token_expiry_choices() -> None:
    assert token_days_choice("30") == 30
    assert token_days_choice("never") is None
    for bad in ("7", "-1", "forever"):
        with pytest.raises(ValueError):  # noqa: PT011 - the message is the value itself
            token_days_choice(bad)


async def test_rate_limit_counts_per_bucket_across_connections(runtime: Runtime) -> None:
    verdicts = [
        await ratelimit.hit(runtime, "sign-in:ip:203.0.113.9", limit=3, window_seconds=60)
        for _ in range(5)
    ]
    assert [v.allowed for v in verdicts] == [True, True, True, False, False]
    assert verdicts[-1].count == 5
    assert 0 < verdicts[-1].retry_after <= 60
    other = await ratelimit.hit(runtime, "sign-in:ip:198.51.100.1", limit=3, window_seconds=60)
    assert other.allowed
    assert other.count == 1
