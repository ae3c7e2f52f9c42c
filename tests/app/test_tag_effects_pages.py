"""Tag effects over HTTP: off by default (no markup, the image addresses 404); configured,
the page of a tagged track carries the effect and an untagged one does not, the images
come with their sniffed type, caching and ETags, stills are PNG, and no name reaches a
file the folder's listing does not show."""

from __future__ import annotations

import io
import re
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from PIL import Image

from tests.conftest import make_settings
from tests.support.databases import clear_tables
from tests.support.effect_images import FIRST_FRAME, effect_folder, still, tagged_track
from tests.support.served_app import serving

Served = tuple[FastAPI, httpx.AsyncClient]


@pytest.fixture
async def effects_app(tmp_path: Path, db_url: str) -> AsyncIterator[Served]:
    folder = effect_folder(tmp_path / "frogs")
    still(folder / "sapo ação #1.png", "PNG", (10, 200, 90, 255))  # a name URLs must escape
    settings = make_settings(
        tmp_path,
        db_url,
        tag_effects_dir=folder,
        tag_effects_exclude="bigbufo_*",
        tag_effects_include="bigbufo_0_0",
        tag_effects_count=5,
    )
    async with serving(settings) as (app, client):
        try:
            yield app, client
        finally:
            await clear_tables(app.state.runtime.engine)


async def test_off_by_default(app_client: Served, tmp_path: Path) -> None:
    app, client = app_client
    effect_folder(tmp_path / "frogs")  # a folder exists, but no setting names it
    track_id = await tagged_track(app.state.runtime, "Bufo Dance", ["bufo"])

    page = await client.get(f"/tracks/{track_id}")

    assert page.status_code == 200
    assert "#bufo" in page.text  # the tag itself is listed as always
    assert "tag-effect" not in page.text
    assert "tag-effects.js" not in page.text
    for path in ("/tag-effects/bufo-dance.gif", "/tag-effects/bufo-dance.gif/still"):
        assert (await client.get(path)).status_code == 404


async def test_a_tagged_tracks_page_shows_the_effect(effects_app: Served) -> None:
    app, client = effects_app
    tagged = await tagged_track(app.state.runtime, "Dance in the Rain", ["swamp", "bufo"])
    plain = await tagged_track(app.state.runtime, "Dance in the Rain", ["swamp"])

    page = (await client.get(f"/tracks/{tagged}")).text

    assert 'data-tag-effect="bufo"' in page
    assert 'class="tag-effect-layer" aria-hidden="true"' in page
    assert page.count("data-tag-effect-image=") == 5
    assert 'data-tag-effect-image="bufo-dance.gif"' in page
    assert 'data-tag-effect-image="bufo-rain.png"' in page
    assert "bigbufo_1_1" not in page  # excluded
    # A moving format offers its first frame to reduced motion; a JPEG needs none.
    reduced = '<source media="(prefers-reduced-motion: reduce)"'
    assert f'{reduced} srcset="/tag-effects/bufo-dance.gif/still">' in page
    assert "/tag-effects/bufo-coffee.jpg/still" not in page
    # The title's words pick the escaped name too, and its address serves it.
    sapo = (
        await client.get(f"/tracks/{await tagged_track(app.state.runtime, 'Sapo', ['bufo'])}")
    ).text
    src = re.search(r'<img src="([^"]+)" alt="" decoding="async" data-tag-effect-image="sapo', sapo)
    assert src is not None
    assert src.group(1) == "/tag-effects/sapo%20a%C3%A7%C3%A3o%20%231.png"
    assert (await client.get(src.group(1))).headers["content-type"] == "image/png"
    assert "hide the #bufo effect" in page
    assert "tag-effect" not in (await client.get(f"/tracks/{plain}")).text
    # The same page on every view: nothing random per request.
    assert (await client.get(f"/tracks/{tagged}")).text.count("--top:") == page.count("--top:")
    again = (await client.get(f"/tracks/{tagged}")).text
    start = page.index('class="tag-effect"')
    assert again[start : start + 2000] == page[start : start + 2000]


async def test_images_are_served_with_their_type_and_cached(effects_app: Served) -> None:
    _, client = effects_app
    gif = await client.get("/tag-effects/bufo-dance.gif")
    assert gif.status_code == 200
    assert gif.headers["content-type"] == "image/gif"
    assert gif.headers["cache-control"] == "public, max-age=86400"
    assert gif.headers["x-content-type-options"] == "nosniff"
    assert gif.content[:6] == b"GIF89a"
    etag = gif.headers["etag"]
    unchanged = await client.get("/tag-effects/bufo-dance.gif", headers={"If-None-Match": etag})
    assert unchanged.status_code == 304
    assert unchanged.content == b""

    for name, mime in [
        ("bufo-rain.png", "image/png"),
        ("bufo_sleepy_night.webp", "image/webp"),
        ("bufo-coffee.jpg", "image/jpeg"),
        ("bigbufo_0_0.png", "image/png"),  # excluded, then included back
    ]:
        answer = await client.get(f"/tag-effects/{name}")
        assert (answer.status_code, answer.headers["content-type"]) == (200, mime), name

    still = await client.get("/tag-effects/bufo-dance.gif/still")
    assert still.headers["content-type"] == "image/png"
    assert still.headers["etag"] != etag
    with Image.open(io.BytesIO(still.content)) as png:
        red = png.convert("RGBA").getpixel((48, 60))
    assert isinstance(red, tuple)
    assert abs(red[0] - FIRST_FRAME[0]) < 16
    head = await client.head("/tag-effects/bufo-rain.png")
    assert head.status_code == 200
    assert head.content == b""


@pytest.mark.parametrize(
    "path",
    [
        "/tag-effects/not-an-image.png",  # HTML named .png
        "/tag-effects/notes.txt",
        "/tag-effects/.hidden.png",
        "/tag-effects/bigbufo_1_1.png",  # excluded
        "/tag-effects/..%2F..%2Fdata%2Fplyr.db",
        "/tag-effects/%2e%2e%2fsecret.key",
        "/tag-effects/..%5C..%5Csecret.key",
        "/tag-effects/%00bufo-dance.gif",
        "/tag-effects/bufo-dance.gif%00.png",
        "/tag-effects/" + "x" * 300,
    ],
)
async def test_nothing_outside_the_listing_is_served(effects_app: Served, path: str) -> None:
    _, client = effects_app
    answer = await client.get(path)
    assert answer.status_code in (404, 422), path
    assert not answer.headers["content-type"].startswith("image/")


async def test_a_folder_that_is_gone_leaves_pages_working(
    tmp_path: Path, db_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    settings = make_settings(tmp_path, db_url, tag_effects_dir=tmp_path / "not-there")
    async with serving(settings) as (app, client):
        try:
            track_id = await tagged_track(app.state.runtime, "Dance", ["bufo"])
            page = await client.get(f"/tracks/{track_id}")
            assert page.status_code == 200
            assert "tag-effect" not in page.text
            assert (await client.get("/tag-effects/bufo-dance.gif")).status_code == 404
        finally:
            await clear_tables(app.state.runtime.engine)
    assert any("tag effects are off" in r.getMessage() for r in caplog.records)
