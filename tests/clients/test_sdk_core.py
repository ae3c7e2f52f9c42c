"""The SDK's pure parts, without a server: the event-stream parser, Retry-After and backoff,
multipart bodies, error messages, download names, and the config file (precedence,
permissions, atomic writes)."""

from __future__ import annotations

import json
import os
import random
import stat
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import pytest
from python_multipart.multipart import MultipartParser

from plyrfm import Client
from plyrfm.config import Config, config_path, load_config, save_config
from plyrfm.errors import (
    AuthenticationError,
    InvalidRequest,
    NotFound,
    PlyrError,
    RateLimited,
    ServerError,
    Unavailable,
    error_from_response,
)
from plyrfm.multipart import FilePart, MultipartBody
from plyrfm.operations.downloads import filename_from
from plyrfm.retry import RetryPolicy, parse_retry_after, retry_failure
from plyrfm.sse import EventStreamParser, ServerEvent

# Server-Sent Events


def feed_all(parser: EventStreamParser, *chunks: bytes) -> list[ServerEvent]:
    return [event for chunk in chunks for event in parser.feed(chunk)]


def test_events_split_anywhere_with_any_line_ending() -> None:
    stream = (
        b"\xef\xbb\xbf: keep-alive\r\n\r\n"
        b'event: progress\r\ndata: {"a": 1}\r\n\r\n'
        b"data: first\rdata:second\r\rid: 7\nevent: progress\ndata: \xc3\xa9t\xc3\xa9\n\n"
        b"event: progress\ndata: never finished"
    )
    expected = [
        ServerEvent("progress", '{"a": 1}'),
        ServerEvent("message", "first\nsecond"),
        ServerEvent("progress", "été", "7"),
    ]
    assert feed_all(EventStreamParser(), stream) == expected
    for size in (1, 2, 3, 5, 7):  # every split: CRLF and UTF-8 cut in half included
        pieces = [stream[i : i + size] for i in range(0, len(stream), size)]
        assert feed_all(EventStreamParser(), *pieces) == expected, size


def test_comments_and_unknown_fields_make_no_event() -> None:
    parser = EventStreamParser()
    assert parser.feed(b": keep-alive\n\n:\n\nretry: 100\nfoo: bar\n\n") == []
    assert parser.feed(b"event: progress\n\n") == []  # no data, no event


# Retry-After and backoff


def test_retry_after_in_seconds_or_as_a_date() -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    assert parse_retry_after("3") == 3.0
    assert parse_retry_after(" 0 ") == 0.0
    assert parse_retry_after(format_datetime(now + timedelta(seconds=30)), now) == 30.0
    assert parse_retry_after(format_datetime(now - timedelta(seconds=30)), now) == 0.0
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None


def test_waits_honour_retry_after_up_to_a_cap_else_back_off_with_jitter() -> None:
    policy = RetryPolicy(backoff=0.5, backoff_max=4.0)
    assert policy.delay(0, 2.0) == 2.0
    assert policy.delay(0, 3600.0) == 60.0
    rng = random.Random(1)
    for retry, ceiling in [(0, 0.5), (1, 1.0), (2, 2.0), (3, 4.0), (9, 4.0)]:
        waits = {policy.delay(retry, None, rng) for _ in range(50)}
        assert all(ceiling / 2 <= w <= ceiling for w in waits), (retry, waits)
        assert len(waits) > 40  # jittered, not in step


def test_what_may_be_sent_again() -> None:
    assert retry_failure("GET", before_sending=False)
    assert retry_failure("DELETE", before_sending=False)
    assert not retry_failure("POST", before_sending=False)
    assert not retry_failure("PATCH", before_sending=False)
    assert retry_failure("POST", before_sending=True)


# multipart


def test_a_multipart_body_streams_files_and_states_its_length(tmp_path: Path) -> None:
    audio = tmp_path / 'a "take".wav'
    audio.write_bytes(os.urandom(200_000))
    cover = tmp_path / "cover.png"
    cover.write_bytes(b"\x89PNG" + os.urandom(100))
    body = MultipartBody(
        [("title", 'é "quoted"\nline'), ("tags", "a"), ("tags", "b")],
        [FilePart("file", audio), FilePart("image", cover)],
    )
    sent: list[int] = []
    chunks = list(body.chunks(sent.append))
    data = b"".join(chunks)
    assert len(data) == body.length() == sent[-1]
    assert max(len(c) for c in chunks) <= 64 * 1024  # never the whole file at once
    assert sent == sorted(sent)

    assert body.content_type == f"multipart/form-data; boundary={body.boundary}"
    parts: list[dict[str, object]] = []
    current: dict[str, object] = {}

    def begin() -> None:
        current.clear()
        current.update(headers=b"", data=b"")

    def header(data: bytes, start: int, end: int) -> None:
        current["headers"] = bytes(current["headers"]) + data[start:end] + b"|"  # type: ignore[arg-type]

    def part_data(data: bytes, start: int, end: int) -> None:
        current["data"] = bytes(current["data"]) + data[start:end]  # type: ignore[arg-type]

    def end() -> None:
        parts.append(dict(current))

    parser = MultipartParser(
        body.boundary,
        {
            "on_part_begin": begin,
            "on_header_field": header,
            "on_header_value": header,
            "on_part_data": part_data,
            "on_part_end": end,
        },
    )
    parser.write(data)
    assert [p["data"] for p in parts] == [
        'é "quoted"\nline'.encode(),
        b"a",
        b"b",
        audio.read_bytes(),
        cover.read_bytes(),
    ]
    assert b'filename="a %22take%22.wav"' in bytes(parts[3]["headers"])  # type: ignore[arg-type]


# errors


def test_errors_from_plyrs_answers_are_typed_and_one_line() -> None:
    body = {
        "error": {
            "code": "invalid_input",
            "message": "the request is not valid",
            "request_id": "r1",
            "details": [{"loc": ["body", "title"], "msg": "too long\nreally"}],
        }
    }
    error = error_from_response(422, {}, json.dumps(body).encode())
    assert isinstance(error, InvalidRequest)
    assert (error.status, error.code, error.request_id) == (422, "invalid_input", "r1")
    assert str(error) == "invalid request: the request is not valid (title: too long really)"
    answers: list[tuple[int, type[PlyrError]]] = [
        (401, AuthenticationError),
        (404, NotFound),
        (451, Unavailable),
        (503, ServerError),
        (418, PlyrError),
    ]
    for status, kind in answers:
        got = error_from_response(status, {"x-request-id": "r2"}, b"<html>oops</html>")
        assert type(got) is kind
        assert got.request_id == "r2"
        assert "\n" not in str(got)
    limited = error_from_response(429, {}, b"slow down", retry_after=4.0)
    assert isinstance(limited, RateLimited)
    assert limited.retry_after == 4.0
    assert str(limited) == "rate limited: slow down"
    assert str(error_from_response(418, {}, b"")) == "plyr error (HTTP 418): i'm a teapot"


def test_download_names_are_made_safe() -> None:
    assert filename_from('attachment; filename="bob - take.wav"') == "bob - take.wav"
    assert filename_from("attachment; filename*=UTF-8''%C3%A9t%C3%A9.flac") == "été.flac"
    assert filename_from('attachment; filename="../../etc/passwd"') == "passwd"
    assert filename_from('attachment; filename="..\\..\\.bashrc"') == "bashrc"
    assert filename_from("attachment") is None
    assert filename_from(None) is None


# config


@pytest.fixture
def home(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    for name in ("PLYR_URL", "PLYR_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    return tmp_path


def test_config_precedence(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert load_config() == Config("http://127.0.0.1:8000", None)
    save_config(Config("https://saved.example/", "plyr_saved"))
    assert load_config() == Config("https://saved.example", "plyr_saved")
    monkeypatch.setenv("PLYR_URL", "https://env.example")
    monkeypatch.setenv("PLYR_TOKEN", "plyr_env")
    assert load_config() == Config("https://env.example", "plyr_env")
    assert load_config("https://arg.example", "plyr_arg") == Config(
        "https://arg.example", "plyr_arg"
    )


def test_config_is_private_and_written_atomically(home: Path) -> None:
    path = save_config(Config("https://one.example", "plyr_secret"))
    assert path == config_path() == home / "xdg" / "plyrfm" / "config.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert json.loads(path.read_text()) == {"url": "https://one.example", "token": "plyr_secret"}
    path.parent.chmod(0o755)
    save_config(Config("https://two.example", None))  # logging out keeps the URL
    assert json.loads(path.read_text()) == {"url": "https://two.example"}
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert os.listdir(path.parent) == ["config.json"]  # no temporary file left


def test_a_broken_config_file_is_an_error(home: Path) -> None:
    path = config_path()
    path.parent.mkdir(parents=True)
    path.write_text("{not json")
    with pytest.raises(PlyrError, match="is not valid JSON"):
        load_config()
    path.write_text("[1, 2]")
    with pytest.raises(PlyrError, match="should hold a JSON object"):
        load_config()


@pytest.mark.parametrize(
    "url", ["notaurl", "ftp://plyr.example", "http://[::1", "http://plyr.example:99999", "http://"]
)
def test_a_url_that_cannot_work_is_refused_before_any_request(home: Path, url: str) -> None:
    with pytest.raises(InvalidRequest, match="should be http") as refused:
        Client(url=url)
    assert "\n" not in str(refused.value)


def test_a_usable_url_makes_a_client(home: Path) -> None:
    with Client(url="http://127.0.0.1:8000") as plyr:
        assert plyr.url == "http://127.0.0.1:8000"
