"""Artwork: images normalised, downscaled, stripped of metadata, refused when unsafe."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from plyr.media import (
    ACCEPTED_IMAGES,
    CorruptFile,
    UnsafeImage,
    UnsupportedImage,
    artwork_from_bytes,
    probe_audio,
    process_artwork,
)
from tests.support.audio import make_image, make_png_bomb, make_truncated, make_zip
from tests.support.media import (
    IMAGE_FORMATS,
    audio_files_fixture,  # noqa: F401 - the audio_files fixture
    cover_fixture,  # noqa: F401 - the cover fixture
)

RED = (220, 20, 20)
BLUE = (20, 20, 220)


@pytest.mark.parametrize("fmt", IMAGE_FORMATS)
def test_artwork_normalised_from_every_format(tmp_path: Path, fmt: str) -> None:
    src = make_image(tmp_path / "upload.bin", fmt, (800, 400))
    art = process_artwork(src, tmp_path)
    assert (art.width, art.height, art.image_mime) == (800, 400, "image/jpeg")
    with Image.open(art.image_path) as image:
        assert (image.format, image.mode, image.size) == ("JPEG", "RGB", (800, 400))
        assert _close(image.getpixel((10, 10)), RED)
        assert _close(image.getpixel((790, 390)), BLUE)
    with Image.open(art.thumb_path) as thumb:
        assert (thumb.format, thumb.size) == ("WEBP", (300, 300))
        assert art.thumb_mime == "image/webp"


def test_artwork_downscales_big_images(tmp_path: Path) -> None:
    art = process_artwork(make_image(tmp_path / "big.jpg", "jpeg", (3000, 2000)), tmp_path)
    assert (art.width, art.height) == (1500, 1000)
    with Image.open(art.thumb_path) as thumb:
        assert thumb.size == (300, 300)
        # Centre crop of a red|blue image: left half red, right half blue.
        assert _close(thumb.getpixel((20, 150)), RED, 40)
        assert _close(thumb.getpixel((280, 150)), BLUE, 40)


@pytest.mark.parametrize("fmt", ["jpeg", "heic", "webp", "png"])
def test_artwork_honours_exif_orientation(tmp_path: Path, fmt: str) -> None:
    # Orientation 6: display rotated 90° clockwise, so the stored left (red) ends on top.
    src = make_image(tmp_path / "photo", fmt, (400, 200), orientation=6)
    art = process_artwork(src, tmp_path)
    assert (art.width, art.height) == (200, 400)
    with Image.open(art.image_path) as image:
        assert _close(image.getpixel((100, 20)), RED)
        assert _close(image.getpixel((100, 380)), BLUE)


@pytest.mark.parametrize("fmt", ["jpeg", "webp", "png"])
def test_artwork_strips_gps_and_all_metadata(tmp_path: Path, fmt: str) -> None:
    src = make_image(tmp_path / "photo", fmt, (300, 300), gps=True)
    with Image.open(src) as original:
        assert original.getexif().get_ifd(0x8825)  # the upload does carry a position
    art = process_artwork(src, tmp_path)
    for path in (art.image_path, art.thumb_path):
        with Image.open(path) as image:
            assert not image.getexif()
            assert "icc_profile" not in image.info
        assert b"Exif" not in path.read_bytes()


@pytest.mark.parametrize("fmt", ["png", "webp", "gif", "heic"])
def test_artwork_flattens_transparency_on_white(tmp_path: Path, fmt: str) -> None:
    art = process_artwork(make_image(tmp_path / "logo", fmt, (200, 200), alpha=True), tmp_path)
    with Image.open(art.image_path) as image:
        assert _close(image.getpixel((190, 100)), (255, 255, 255))
        assert _close(image.getpixel((10, 100)), RED)


def test_artwork_refuses_bombs_and_impostors(tmp_path: Path) -> None:
    with pytest.raises(UnsafeImage, match="pixels"):
        process_artwork(make_png_bomb(tmp_path / "bomb.png"), tmp_path)
    # Between Pillow's warning and error thresholds: Pillow only warns, we refuse.
    with pytest.warns(Image.DecompressionBombWarning), pytest.raises(UnsafeImage):
        process_artwork(make_png_bomb(tmp_path / "b2.png", 8000, 8000), tmp_path)
    with pytest.raises(UnsupportedImage, match=f"accepted: {ACCEPTED_IMAGES}"):
        process_artwork(make_zip(tmp_path / "cover.jpg"), tmp_path)
    jpeg = make_image(tmp_path / "photo.jpg", "jpeg", (600, 600))
    with pytest.raises(CorruptFile):
        process_artwork(make_truncated(jpeg, tmp_path / "cut.jpg", 400), tmp_path)


def test_artwork_from_embedded_cover(audio_files: dict[str, Path], tmp_path: Path) -> None:
    info = probe_audio(audio_files["m4a-aac"])
    assert info.cover is not None
    art = artwork_from_bytes(info.cover, info.cover_mime, tmp_path)
    assert (art.width, art.height) == (120, 120)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [art.image_path.name, art.thumb_path.name]
    )
    with pytest.raises(UnsupportedImage, match="declared as image/bmp"):
        artwork_from_bytes(b"BM not really a bitmap", "image/bmp", tmp_path)


def _close(pixel: object, expected: tuple[int, int, int], tolerance: int = 25) -> bool:
    assert isinstance(pixel, tuple)
    return all(abs(a - b) <= tolerance for a, b in zip(pixel[:3], expected, strict=True))
