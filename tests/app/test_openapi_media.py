"""The media routes in the OpenAPI (`web/media/answers.py`): the addresses API answers hand
out (`/audio/{id}`, its `/download`, `/images/{id}` and `/thumb`, a list's `/cover` and
`/cover/thumb`) are documented as the bytes they are, with what `serve_object` answers
besides (206 with `Content-Range`, 304, 412, 416, the S3 307) and the request headers it
honours; their errors are `ErrorOut` when JSON is asked for. `/media/{key}` and the
operators' `/media/admin/…` stay out (storage's layout; the review page's players).

Then the answers a real app gives, one of each kind, are checked against the document:
status, media type, headers (required ones present, each matching its schema) and JSON
bodies. Each check is shown to fail on a route or an answer that gets it wrong.
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import httpx
import jsonschema  # type: ignore[import-untyped]
import pytest
from fastapi import FastAPI, Response
from sqlalchemy import update

from plyr.db.models import Artist, Track
from plyr.storage.base import content_key
from plyr.web.app import create_app
from tests.conftest import make_settings
from tests.support.search_catalogue import catalogue_track

Schema = dict[str, Any]
MEDIA_PATHS = {
    "/audio/{track_id}",
    "/audio/{track_id}/download",
    "/images/{track_id}",
    "/images/{track_id}/thumb",
    "/lists/{list_id}/cover",
    "/lists/{list_id}/cover/thumb",
}
BYTE_TYPES = ("audio/", "image/", "application/octet-stream")
TRACK_ID = 12
JSON = {"accept": "application/json"}


@pytest.fixture(scope="module")
def document(tmp_path_factory: pytest.TempPathFactory) -> Schema:
    folder = tmp_path_factory.mktemp("openapi-media")
    app = create_app(make_settings(folder, f"sqlite+aiosqlite:///{folder / 'plyr.db'}"))
    return app.openapi()


def _media_operations(document: Schema) -> list[tuple[str, Schema]]:
    """Everything outside the JSON API (/api, /health, /oembed) is a media address."""
    return [
        (f"{method.upper()} {path}", operation)
        for path, operations in document["paths"].items()
        if not path.startswith("/api/") and path not in {"/health", "/oembed"}
        for method, operation in operations.items()
    ]


def incomplete_media(document: Schema) -> list[str]:
    """Media operations missing what a client of bytes needs to know."""
    problems = []
    for label, operation in _media_operations(document):
        answers = operation["responses"]
        if operation.get("tags") != ["media"]:
            problems.append(f"{label}: not tagged media")
        for status in ("200", "206"):
            content = answers.get(status, {}).get("content", {})
            if not content or not all(media.startswith(BYTE_TYPES) for media in content):
                problems.append(f"{label} {status}: not bytes of a named type {list(content)}")
        partial = answers.get("206", {}).get("headers", {}).get("Content-Range", {})
        if not partial.get("required"):
            problems.append(f"{label} 206: no Content-Range")
        if "Content-Range" not in answers.get("416", {}).get("headers", {}):
            problems.append(f"{label} 416: not listed with its Content-Range")
        for status in ("304", "412", "416"):
            if status not in answers or answers[status].get("content"):
                problems.append(f"{label} {status}: not listed as an answer without a body")
        headers = {p["name"] for p in operation.get("parameters", []) if p["in"] == "header"}
        for name in ("Range", "If-Range", "If-None-Match", "If-Modified-Since"):
            if name not in headers:
                problems.append(f"{label}: the {name} header is not a parameter")
        for status in ("401", "404", "422"):
            if status not in answers:
                problems.append(f"{label}: {status} not listed")
        for status, answer in answers.items():
            if status.startswith("4") and status not in ("412", "416"):
                schema = answer.get("content", {}).get("application/json", {}).get("schema")
                if schema != {"$ref": "#/components/schemas/ErrorOut"}:
                    problems.append(f"{label} {status}: not ErrorOut")
    return problems


def test_the_media_routes_are_documented(document: Schema) -> None:
    assert incomplete_media(document) == []
    media = {path for path in document["paths"] if not path.startswith("/api/")}
    assert media - {"/health", "/oembed"} == MEDIA_PATHS  # no /media/{key}, no /media/admin
    for path in MEDIA_PATHS:
        assert set(document["paths"][path]) == {"get"}, path  # HEAD: the GET's headers
        # Signed out works; a caller (a token, the cookie) may see more (their own, taken
        # down for operators): the same post-processing as the API marks them.
        operation = document["paths"][path]["get"]
        assert operation["security"] == [{"developerToken": []}, {"sessionCookie": []}, {}]
    audio = document["paths"]["/audio/{track_id}"]["get"]["responses"]
    assert {"409", "451"} <= set(audio)
    assert set(audio["451"]["content"]) == {"application/json", "text/plain"}  # the player's
    assert set(audio["404"]["content"]) == {"application/json", "text/html"}
    download = document["paths"]["/audio/{track_id}/download"]["get"]["responses"]["200"]
    assert download["headers"]["Content-Disposition"]["required"] is True
    tags = {tag["name"] for tag in document["tags"]}
    assert "media" in tags


def test_the_media_check_finds_what_a_careless_route_gets_wrong() -> None:
    app = FastAPI()

    @app.get("/audio/{item_id}", response_class=Response)
    async def careless(item_id: int) -> Response:
        """Bytes, said of nothing."""
        return Response()

    problems = incomplete_media(app.openapi())
    for words in (
        "not tagged media",
        "200: not bytes of a named type",
        "206: no Content-Range",
        "416: not listed",
        "304: not listed as an answer without a body",
        "the Range header is not a parameter",
        "401 not listed",
        "422: not ErrorOut",  # FastAPI's own validation answer
    ):
        assert any(words in problem for problem in problems), (words, problems)


# --- the real answers -----------------------------------------------------------------------


def _matches(documented: str, media: str) -> bool:
    main, _, sub = documented.partition("/")
    their_main, _, their_sub = media.partition("/")
    return main in ("*", their_main) and sub in ("*", their_sub)


def answer_problems(document: Schema, path: str, response: httpx.Response) -> list[str]:
    """How an answer to `GET path` differs from what the document says of it."""
    where = f"{path} {response.status_code}"
    answer = document["paths"][path]["get"]["responses"].get(str(response.status_code))
    if answer is None:
        return [f"{where}: status not documented"]
    problems = []
    documented = answer.get("content", {})
    media = response.headers.get("content-type", "").split(";")[0].strip() or None
    if media is None and documented:
        problems.append(f"{where}: no content type, the document says {list(documented)}")
    elif media is not None and not any(_matches(d, media) for d in documented):
        problems.append(f"{where}: {media} not among {list(documented)}")
    for name, header in answer.get("headers", {}).items():
        value: Any = response.headers.get(name)
        if value is None:
            if header.get("required"):
                problems.append(f"{where}: no {name} header")
            continue
        if header["schema"].get("type") == "integer":
            value = int(value)
        for error in jsonschema.Draft202012Validator(header["schema"]).iter_errors(value):
            problems.append(f"{where}: {name} {error.message}")
    if media == "application/json":
        schema = {**documented[media]["schema"], "components": document["components"]}
        for error in jsonschema.Draft202012Validator(schema).iter_errors(response.json()):
            problems.append(f"{where}: body {error.message}")
    return problems


async def _stored(app: FastAPI, key: str, data: bytes) -> str:
    async def chunks() -> AsyncIterator[bytes]:
        yield data

    await app.state.runtime.storage.put(key, chunks())
    return key


async def _track_with_artwork(app: FastAPI) -> None:
    audio = bytes(range(256)) * 40
    digest = hashlib.sha256(audio).hexdigest()
    async with app.state.runtime.sessions() as session:
        session.add(Artist(did="did:plc:media", handle="media.test", pds_url="https://pds.test"))
        await session.flush()
        track = catalogue_track(TRACK_ID, "did:plc:media", "harbour", "media")
        track.original_key = await _stored(app, content_key("audio", digest, "mp3"), audio)
        track.stream_content_type = "audio/mpeg"
        track.image_key = await _stored(app, content_key("images", digest, "jpg"), b"jpeg" * 64)
        thumb = content_key("images", digest, "thumb.webp")
        track.thumbnail_key = await _stored(app, thumb, b"webp" * 32)
        session.add(track)
        await session.commit()


async def _set(app: FastAPI, **values: Any) -> None:
    async with app.state.runtime.sessions() as session:
        await session.execute(update(Track).where(Track.id == TRACK_ID).values(**values))
        await session.commit()


async def test_every_kind_of_media_answer_is_as_documented(
    app_client: tuple[FastAPI, httpx.AsyncClient],
) -> None:
    app, client = app_client
    document = app.openapi()
    await _track_with_artwork(app)
    audio, t = "/audio/{track_id}", TRACK_ID
    whole = await client.get(f"/audio/{t}")
    etag = whole.headers["etag"]
    cases: list[tuple[str, str, dict[str, str], int, str | None]] = [
        (audio, f"/audio/{t}", {}, 200, "audio/mpeg"),
        (audio, f"/audio/{t}", {"range": "bytes=0-99"}, 206, "audio/mpeg"),
        (audio, f"/audio/{t}", {"range": "bytes=-10"}, 206, "audio/mpeg"),
        (audio, f"/audio/{t}", {"range": "bytes=999999-"}, 416, None),
        (audio, f"/audio/{t}", {"range": "lines=1-2"}, 200, "audio/mpeg"),  # ignored
        (audio, f"/audio/{t}", {"if-none-match": etag}, 304, None),
        (audio, f"/audio/{t}", {"if-match": '"another"'}, 412, None),
        (audio, "/audio/999999", JSON, 404, "application/json"),
        (audio, "/audio/999999", {"accept": "text/html"}, 404, "text/html"),
        (audio, "/audio/0", JSON, 422, "application/json"),
        (audio, f"/audio/{t}", {**JSON, "authorization": "Bearer no"}, 401, "application/json"),
        ("/audio/{track_id}/download", f"/audio/{t}/download", {}, 200, None),
        ("/images/{track_id}", f"/images/{t}", {}, 200, "image/jpeg"),
        ("/images/{track_id}", f"/images/{t}", {"range": "bytes=4-"}, 206, "image/jpeg"),
        ("/images/{track_id}/thumb", f"/images/{t}/thumb", {}, 200, "image/webp"),
        ("/lists/{list_id}/cover", "/lists/999999/cover", {}, 404, "text/html"),
        ("/lists/{list_id}/cover/thumb", "/lists/1/cover/thumb", JSON, 404, "application/json"),
    ]
    problems = []
    for path, url, headers, status, media in cases:
        answer = await client.get(url, headers=headers)
        assert answer.status_code == status, (url, headers, answer.text[:200])
        if media is not None:
            assert answer.headers["content-type"].startswith(media), (url, headers)
        problems += answer_problems(document, path, answer)
    ranged = await client.get(f"/audio/{t}", headers={"range": "bytes=0-99"})
    assert ranged.headers["content-range"] == f"bytes 0-99/{len(whole.content)}"
    assert ranged.content == whole.content[:100]

    # Taken down: the player gets one line, a client asking for JSON the API's ErrorOut.
    await _set(app, taken_down_at=datetime.now(UTC), takedown_reason="dmca")
    line = await client.get(f"/audio/{t}")
    assert (line.status_code, line.headers["content-type"]) == (451, "text/plain; charset=utf-8")
    assert "dmca" in line.text
    as_json = await client.get(f"/audio/{t}/download", headers=JSON)
    assert as_json.status_code == 451
    assert as_json.json()["error"]["code"] == "unavailable_for_legal_reasons"
    assert "dmca" in as_json.json()["error"]["message"]
    page = await client.get(f"/images/{t}", headers={"accept": "text/html"})
    assert page.status_code == 451
    problems += answer_problems(document, audio, line)
    problems += answer_problems(document, "/audio/{track_id}/download", as_json)
    problems += answer_problems(document, "/images/{track_id}", page)

    # Its audio not there yet: 409 with the reason.
    await _set(app, taken_down_at=None, audio_state="pending")
    pending = await client.get(f"/audio/{t}", headers=JSON)
    assert pending.status_code == 409
    assert pending.json()["error"]["code"] == "audio_pending"
    problems += answer_problems(document, audio, pending)
    assert problems == []


def test_answer_problems_finds_answers_the_document_does_not_describe(
    document: Schema,
) -> None:
    audio = "/audio/{track_id}"
    request = httpx.Request("GET", "http://plyr.test/audio/1")

    def answer(status: int, headers: dict[str, str], body: bytes = b"") -> httpx.Response:
        return httpx.Response(status, headers=headers, content=body, request=request)

    assert answer_problems(document, audio, answer(418, {})) == [
        f"{audio} 418: status not documented"
    ]
    partial = answer(206, {"content-type": "audio/mpeg", "content-range": "bytes 0-9"})
    assert any("Content-Range" in p for p in answer_problems(document, audio, partial))
    assert any("no Content-Range" in p for p in answer_problems(document, audio, answer(206, {})))
    zipped = answer(200, {"content-type": "application/zip"})
    assert any("not among" in p for p in answer_problems(document, audio, zipped))
    loose = answer(404, {"content-type": "application/json"}, b'{"detail": "nope"}')
    assert any("body" in p for p in answer_problems(document, audio, loose))
    assert answer_problems(document, audio, answer(304, {"etag": '"x"'})) == []
