"""The OpenAPI schema, the docs page, static files and the home and artist pages."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import httpx
from fastapi import FastAPI

from plyr.db.models import Artist, PublishState, Track


async def test_openapi_schema_is_served(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/openapi.json")

    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    assert schema["info"]["title"] == "plyr"
    assert "/health" in schema["paths"]
    assert "/" not in schema["paths"]  # pages are not part of the API


async def test_docs_page_is_served(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/docs")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "swagger" in response.text.lower()
    assert "/api/openapi.json" in response.text
    # Everything the docs page loads comes from plyr itself, never a CDN.
    assert "cdn." not in response.text
    assert "https://" not in response.text.replace("https://fastapi.tiangolo.com", "")
    for asset in ("/api/docs-assets/swagger-ui-bundle.js", "/api/docs-assets/swagger-ui.css"):
        assert asset in response.text
        fetched = await client.get(asset)
        assert fetched.status_code == 200
        assert len(fetched.content) > 10_000


async def test_home_page_lists_published_tracks(
    app_client: tuple[FastAPI, httpx.AsyncClient],
) -> None:
    app, client = app_client
    empty = await client.get("/")
    assert empty.status_code == 200
    assert empty.headers["content-type"].startswith("text/html")
    assert "plyr" in empty.text
    assert "nothing published yet" in empty.text

    now = datetime.now(UTC)
    async with app.state.runtime.sessions() as session:
        session.add(Artist(did="did:plc:home", handle="home.test", pds_url="https://pds.test"))
        for index, (title, state) in enumerate(
            [
                ("a published song", PublishState.published),
                ("a song still processing", PublishState.processing),
                ("a song that failed", PublishState.failed),
            ]
        ):
            session.add(
                Track(
                    artist_did="did:plc:home",
                    title=title,
                    artist_name="home artist",
                    file_type="mp3",
                    content_hash=f"{index}" * 64,
                    original_key=f"audio/{index}.mp3",
                    rkey=f"rkey{index}",
                    publish_state=state,
                    created_at=now - timedelta(minutes=index),
                )
            )
        await session.commit()

    page = (await client.get("/")).text
    assert "a published song" in page
    assert "home artist" in page
    assert "a song still processing" not in page
    assert "a song that failed" not in page
    assert "1 artists" in page


async def test_static_files_are_served(client: httpx.AsyncClient) -> None:
    response = await client.get("/static/css/plyr.css")

    assert response.status_code == 200
    assert "text/css" in response.headers["content-type"]


async def test_home_and_artist_pages_page_by_keyset(
    app_client: tuple[FastAPI, httpx.AsyncClient],
) -> None:
    """120 tracks, 50 a page: three pages that neither repeat nor skip a track, including
    tracks that share a creation time (the id breaks the tie); a bad cursor is page one."""
    app, client = app_client
    now = datetime.now(UTC)
    async with app.state.runtime.sessions() as session:
        session.add(Artist(did="did:plc:pager", handle="pager.test", pds_url="https://pds.test"))
        for index in range(120):
            session.add(
                Track(
                    artist_did="did:plc:pager",
                    title=f"paged song {index:03d}",
                    artist_name="pager",
                    file_type="mp3",
                    content_hash=f"{index:064d}",
                    original_key=f"audio/p{index}.mp3",
                    rkey=f"p{index}",
                    publish_state=PublishState.published,
                    atproto_uri=f"at://did:plc:pager/fm.plyr.track/p{index}",
                    created_at=now - timedelta(minutes=index // 3),  # three share each minute
                )
            )
        await session.commit()

    title = re.compile(r"paged song (\d{3})")
    for start in ("/", "/artists/pager.test"):
        seen: list[str] = []
        url: str | None = start
        pages = 0
        while url is not None:
            page = await client.get(url)
            assert page.status_code == 200
            found = title.findall(page.text)
            assert found, url
            seen += list(dict.fromkeys(found))
            older = re.search(r'href="([^"]*before=[^"]+)"[^>]*rel="next"', page.text)
            url = older.group(1).replace("&amp;", "&") if older else None
            pages += 1
        assert pages == 3
        assert len(seen) == 120
        assert len(set(seen)) == 120
        bad = await client.get(f"{start}{'&' if '?' in start else '?'}before=not-a-cursor")
        assert bad.status_code == 200
        assert title.findall(bad.text)[0] == seen[0]
