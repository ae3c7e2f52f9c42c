"""Unit tests of DPoP proofs, nonce retry and error mapping (one function each; the real
PDS round trips are in test_repo_client.py and, with OAuth tokens, in the sign-in tests)."""

from __future__ import annotations

import base64
import hashlib
import json

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import ECKey

from plyr.atproto.xrpc import (
    AuthenticationFailed,
    Conflict,
    DPoPAuth,
    InvalidRequest,
    PayloadTooLarge,
    PdsUnavailable,
    RecordNotFound,
    ScopeMissing,
    XrpcClient,
    classify,
    dpop_htu,
    dpop_proof,
    new_dpop_key,
)


def decode(token: str, key: ECKey) -> tuple[dict[str, object], dict[str, object]]:
    verified = jwt.decode(token, ECKey.import_key(key.as_dict(private=False)), algorithms=["ES256"])
    return dict(verified.header), dict(verified.claims)


def test_proof_has_the_claims_rfc9449_asks_for() -> None:
    key = new_dpop_key()
    token = dpop_proof(
        key, "post", "https://pds.example/xrpc/x?y=1#z", nonce="n1", access_token="tok"
    )
    header, claims = decode(token, key)
    assert header["typ"] == "dpop+jwt"
    assert header["alg"] == "ES256"
    jwk = header["jwk"]
    assert isinstance(jwk, dict)
    assert "d" not in jwk
    assert claims["htm"] == "POST"
    assert claims["htu"] == "https://pds.example/xrpc/x"
    assert claims["nonce"] == "n1"
    expected_ath = base64.urlsafe_b64encode(hashlib.sha256(b"tok").digest()).rstrip(b"=")
    assert claims["ath"] == expected_ath.decode()
    other = dpop_proof(key, "POST", "https://pds.example/xrpc/x")
    assert decode(other, key)[1]["jti"] != claims["jti"]


def test_htu_strips_query_and_fragment() -> None:
    assert dpop_htu("http://localhost:2583/xrpc/a.b?c=d#e") == "http://localhost:2583/xrpc/a.b"


async def test_nonce_retry_happens_once_and_nonce_is_kept() -> None:
    seen: list[dict[str, object]] = []
    key = new_dpop_key()

    def handler(request: httpx.Request) -> httpx.Response:
        _header, claims = decode(request.headers["dpop"], key)
        seen.append(claims)
        assert request.headers["authorization"] == "DPoP access-1"
        if claims.get("nonce") != "fresh":
            return httpx.Response(
                401,
                headers={"www-authenticate": 'DPoP error="use_dpop_nonce"', "dpop-nonce": "fresh"},
                json={"error": "use_dpop_nonce"},
            )
        return httpx.Response(200, json={"ok": True}, headers={"dpop-nonce": "fresh"})

    auth = DPoPAuth("access-1", key)
    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as http:
        client = XrpcClient(http, "https://pds.example", auth)
        assert await client.query("com.example.ping") == {"ok": True}
        assert [claims.get("nonce") for claims in seen] == [None, "fresh"]
        # The next call starts with the nonce it learnt: no extra round trip.
        await client.query("com.example.ping")
        assert [claims.get("nonce") for claims in seen] == [None, "fresh", "fresh"]


async def test_a_server_that_keeps_asking_for_nonces_gets_an_error_not_a_loop() -> None:
    calls = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        return httpx.Response(
            401,
            headers={"www-authenticate": 'DPoP error="use_dpop_nonce"', "dpop-nonce": f"n{calls}"},
            json={"error": "use_dpop_nonce"},
        )

    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as http:
        client = XrpcClient(http, "https://pds.example", DPoPAuth("t", new_dpop_key()))
        with pytest.raises(AuthenticationFailed):
            await client.procedure("com.example.write", {"a": 1})
    assert calls == 2


async def test_expired_token_is_refreshed_once() -> None:
    tokens = iter(["access-2"])

    async def refresh() -> str:
        return next(tokens)

    def handler(request: httpx.Request) -> httpx.Response:
        if request.headers["authorization"] == "DPoP access-1":
            return httpx.Response(
                401, headers={"www-authenticate": 'DPoP error="invalid_token"'}, json={}
            )
        return httpx.Response(200, json={"who": json.loads(request.content or b"{}")})

    auth = DPoPAuth("access-1", new_dpop_key(), refresh=refresh)
    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as http:
        client = XrpcClient(http, "https://pds.example", auth)
        assert await client.procedure("com.example.write", {"a": 1}) == {"who": {"a": 1}}
    assert auth.access_token == "access-2"


@pytest.mark.parametrize(
    ("status", "body", "expected"),
    [
        (400, {"error": "RecordNotFound", "message": "Could not locate record"}, RecordNotFound),
        (
            400,
            {"error": "InvalidRequest", "message": "Could not locate record: at://x"},
            RecordNotFound,
        ),
        (403, {"error": "Forbidden", "message": 'Missing required scope "repo:x"'}, ScopeMissing),
        (413, {"error": "PayloadTooLarge", "message": "request entity too large"}, PayloadTooLarge),
        (400, {"error": "BlobTooLarge", "message": "too big"}, PayloadTooLarge),
        (401, {"error": "AuthMissing", "message": ""}, AuthenticationFailed),
        (502, {}, PdsUnavailable),
        (429, {"error": "RateLimitExceeded"}, PdsUnavailable),
        (400, {"error": "InvalidSwap", "message": "record was at"}, Conflict),
        (
            400,
            {"error": "InvalidRequest", "message": "Input/record must be an object"},
            InvalidRequest,
        ),
    ],
)
def test_errors_are_typed(status: int, body: dict[str, str], expected: type[Exception]) -> None:
    error = classify("com.atproto.repo.putRecord", status, body)
    assert type(error) is expected
    assert "com.atproto.repo.putRecord" in str(error)
