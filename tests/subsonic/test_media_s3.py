"""The byte answers on S3 storage (SeaweedFS): a form POST (how py-opensonic asks) is sent
to the object with a 303, so the follow-up is a GET that carries no form and no
credentials; a transcode reads its source from the bucket through `StoredFile`."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import anyio
import av
import httpx
from starlette.requests import Request

from plyr.serving.serve import serve_object
from plyr.storage.factory import create_storage
from plyr.subsonic import transcoding
from plyr.subsonic.transcoding import StoredAudio, choose
from tests.support.audio import make_audio
from tests.support.seaweedfs import S3Server
from tests.support.storage import admin_client, chunks_of, remove_bucket, s3_settings


def _request(method: str) -> Request:
    scope = {"type": "http", "method": method, "headers": [], "path": "/rest/stream", "app": None}
    return Request(scope)


async def test_on_s3_a_posted_stream_is_a_303_and_a_transcode_reads_the_bucket(
    s3_server: S3Server, tmp_path: Path
) -> None:
    settings = s3_settings(tmp_path, s3_server)
    storage = create_storage(settings)
    source = make_audio(tmp_path / "tone.flac", "flac", 4.0, 440)
    data = await anyio.Path(source).read_bytes()
    try:
        await storage.check()
        info = await storage.put("audio/ab/tone.flac", chunks_of(data), "audio/flac")
        posted = await serve_object(_request("POST"), storage, info.key, content_type="audio/flac")
        got = await serve_object(_request("GET"), storage, info.key, content_type="audio/flac")
        assert (posted.status_code, got.status_code) == (303, 307)
        async with httpx.AsyncClient() as http:
            fetched = await http.get(posted.headers["location"])
        assert fetched.content == data

        plan = choose(StoredAudio(info.key, "audio/flac", info.size, 4.0, "flac"), "mp3", 96, 1.0)
        assert plan is not None
        answer = await transcoding.live_answer(storage, plan, estimate=False, did="did:plc:s3")
        sent: list[dict[str, Any]] = []

        async def send(message: dict[str, Any]) -> None:
            sent.append(message)

        async def receive() -> dict[str, Any]:
            await anyio.sleep_forever()
            raise AssertionError

        await answer({}, receive, send)
        body = b"".join(message.get("body", b"") for message in sent[1:])
        with av.open(io.BytesIO(body)) as container:
            stream = container.streams.audio[0]
            samples = sum(frame.samples for frame in container.decode(stream))
        assert stream.codec_context.name == "mp3float"
        assert abs(samples / stream.sample_rate - 3.0) < 0.15
    finally:
        await storage.close()
        async with admin_client(s3_server) as admin:
            await remove_bucket(admin, settings.s3_bucket)
