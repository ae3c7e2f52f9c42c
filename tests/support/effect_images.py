"""Real images for the tag-effect tests, drawn with Pillow: an animated GIF whose frames
differ (the first red), a still PNG, WebP and JPEG, and a file that lies about its type;
and published tracks with tags to show them on."""

from __future__ import annotations

import secrets
from pathlib import Path

from PIL import Image, ImageDraw
from sqlalchemy import select

from plyr.db.models import Artist, PublishState, Tag, Track, TrackTag
from plyr.runtime import Runtime

FIRST_FRAME = (220, 40, 40, 255)  # the animated GIF's first frame, as its still shows it
ARTIST_DID = "did:plc:tageffects"


def _frog(size: int, colour: tuple[int, int, int, int]) -> Image.Image:
    """A round face with two eyes on a transparent square, `colour` its body."""
    image = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    draw.ellipse((4, size // 4, size - 4, size - 4), fill=colour)
    eye = size // 6
    for x in (size // 4, size - size // 4 - eye):
        draw.ellipse((x, size // 8, x + eye, size // 8 + eye), fill=(255, 255, 255, 255))
    draw.arc((size // 4, size // 2, size - size // 4, size - size // 6), 20, 160, fill="black")
    return image


def animated_gif(path: Path, size: int = 96) -> Path:
    colours = [FIRST_FRAME, (40, 180, 60, 255), (40, 90, 220, 255), (230, 200, 40, 255)]
    frames = [_frog(size, colour) for colour in colours]  # transparent around the frog
    frames[0].save(path, save_all=True, append_images=frames[1:], duration=120, loop=0, disposal=2)
    return path


def still(path: Path, fmt: str, colour: tuple[int, int, int, int], size: int = 96) -> Path:
    image = _frog(size, colour)
    (image.convert("RGB") if fmt == "JPEG" else image).save(path, format=fmt)
    return path


def effect_folder(folder: Path) -> Path:
    """A folder as an operator would fill it (the bufo names the real plyr.fm shows),
    with what must never be shown beside them."""
    folder.mkdir(parents=True, exist_ok=True)
    animated_gif(folder / "bufo-dance.gif")
    still(folder / "bufo-rain.png", "PNG", (60, 160, 220, 255))
    still(folder / "bufo_sleepy_night.webp", "WEBP", (120, 80, 200, 255))
    still(folder / "bufo-coffee.jpg", "JPEG", (150, 100, 60, 255))
    still(folder / "bigbufo_0_0.png", "PNG", (40, 140, 40, 255))
    still(folder / "bigbufo_1_1.png", "PNG", (40, 140, 40, 255))
    (folder / "not-an-image.png").write_text("<script>alert(1)</script>")
    (folder / "notes.txt").write_text("just notes")
    still(folder / ".hidden.png", "PNG", (0, 0, 0, 255))
    return folder


async def tagged_track(runtime: Runtime, title: str, tags: list[str]) -> int:
    """A published track with these tags (no audio stored: the page is what is tested)."""
    async with runtime.sessions() as session:
        if await session.get(Artist, ARTIST_DID) is None:
            session.add(Artist(did=ARTIST_DID, handle="frogs.test", pds_url="https://pds.test"))
            await session.flush()
        key = secrets.token_hex(6)
        track = Track(
            artist_did=ARTIST_DID,
            title=title,
            artist_name="frogs",
            file_type="mp3",
            content_hash=secrets.token_hex(32),
            original_key=f"audio/{key}.mp3",
            rkey=f"3k{key}",
            atproto_uri=f"at://{ARTIST_DID}/fm.plyr.track/3k{key}",
            publish_state=PublishState.published,
        )
        session.add(track)
        await session.flush()
        for name in tags:
            tag = (await session.execute(select(Tag).where(Tag.name == name))).scalar_one_or_none()
            if tag is None:
                tag = Tag(name=name)
                session.add(tag)
                await session.flush()
            session.add(TrackTag(track_id=track.id, tag_id=tag.id))
        await session.commit()
        return track.id
