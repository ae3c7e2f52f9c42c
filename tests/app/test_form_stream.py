"""A multipart body the parser cannot read, or one cut short, is the client's mistake: a 400,
and nothing left in the temporary folder (the fuzz test found the first: it was a 500; the
parser took the second as a whole form with a half file in it)."""

from __future__ import annotations

from pathlib import Path

import anyio
import pytest
from starlette.requests import Request
from starlette.types import Message

from plyr.errors import ServiceError
from plyr.web.shared.form_stream import receive_form

BOUNDARY = "a222103b9b30b1f9e8be6882ecedb1d2"


def _request(body: bytes) -> Request:
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    scope = {
        "type": "http",
        "method": "POST",
        "path": "/api/tracks",
        "headers": [
            (b"content-type", f"multipart/form-data; boundary={BOUNDARY}".encode()),
            (b"content-length", str(len(body)).encode()),
        ],
    }
    return Request(scope, receive)


@pytest.mark.parametrize(
    "body",
    [
        f"--{BOUNDARY}\r\n[]--{BOUNDARY}--\r\n".encode(),  # a part header without a colon
        (  # cut short: no closing boundary, the file part half sent
            f"--{BOUNDARY}\r\n"
            'Content-Disposition: form-data; name="file"; filename="a.mp3"\r\n\r\n'
            "ID3 half a file"
        ).encode(),
    ],
    ids=["malformed", "cut short"],
)
async def test_an_unreadable_multipart_body_is_a_400(body: bytes, tmp_path: Path) -> None:
    with pytest.raises(ServiceError) as refused:
        await receive_form(_request(body), tmp_path, {"file": 1024})
    assert (refused.value.status, refused.value.code) == (400, "invalid_input")
    assert [entry async for entry in anyio.Path(tmp_path).iterdir()] == []


async def test_a_whole_body_is_read(tmp_path: Path) -> None:
    body = (
        f"--{BOUNDARY}\r\n"
        'Content-Disposition: form-data; name="title"\r\n\r\nhello\r\n'
        f"--{BOUNDARY}\r\n"
        'Content-Disposition: form-data; name="file"; filename="a.mp3"\r\n\r\n'
        f"ID3 a whole file\r\n--{BOUNDARY}--\r\n"
    ).encode()
    form = await receive_form(_request(body), tmp_path, {"file": 1024})
    try:
        assert form.value("title") == "hello"
        assert await anyio.Path(form.files["file"].path).read_bytes() == b"ID3 a whole file"
    finally:
        form.cleanup()
