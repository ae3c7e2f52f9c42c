"""Cover art: a normalised JPEG (at most 1500 px) and a 300x300 WebP thumbnail.

Images are sniffed first and Pillow may only use the decoder for the sniffed format. Files
declaring more than ``MAX_IMAGE_PIXELS`` are refused before any pixel is decoded:
``check_image`` reads only the header, so uploads refuse an image bomb before storing it. The
output carries no metadata at all (EXIF with GPS positions, XMP, comments are dropped),
is rotated per its EXIF orientation, converted to sRGB when it has an ICC profile, and
has any transparency flattened onto white: covers are shown as opaque squares, and
most transparent covers are dark artwork drawn for a light page.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path
from typing import Final

import pillow_heif
from PIL import Image, ImageCms, ImageOps, UnidentifiedImageError

from plyr.media.errors import CorruptFile, UnsafeImage, UnsupportedImage
from plyr.media.sniff import ImageFormat, StrPath, sniff_image

MAX_IMAGE_PIXELS: Final = 50_000_000
MAX_ARTWORK_BYTES: Final = 32 * 1024 * 1024
JPEG_QUALITY: Final = 88
THUMB_QUALITY: Final = 82
BACKGROUND: Final = (255, 255, 255)

pillow_heif.register_heif_opener()
# Pillow warns above this and refuses above twice this; we refuse above it (see _open).
Image.MAX_IMAGE_PIXELS = MAX_IMAGE_PIXELS

_SRGB = ImageCms.createProfile("sRGB")


@dataclass(frozen=True)
class Artwork:
    image_path: Path  # the normalised cover
    image_mime: str
    thumb_path: Path  # square WebP thumbnail
    width: int  # of the normalised cover
    height: int
    thumb_mime: str = "image/webp"


def check_image(src: StrPath) -> ImageFormat:
    """Sniff an image and check the size its header declares, decoding no pixel.

    Raises ``UnsupportedImage`` (not an accepted format), ``UnsafeImage`` (too many
    pixels) or ``CorruptFile`` (no readable header).
    """
    fmt = sniff_image(src)
    try:
        # Image.open parses the header only; pixels are decoded on load(), never here.
        with Image.open(src, formats=[fmt.pillow_format]) as opened:
            width, height = opened.size
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise UnsafeImage(f"the image has more than {MAX_IMAGE_PIXELS:,} pixels") from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, EOFError) as exc:
        if isinstance(exc, FileNotFoundError):
            raise
        raise CorruptFile("the image can't be read; it may be truncated or damaged") from None
    if width <= 0 or height <= 0:
        raise CorruptFile("the image has no pixels")
    if width * height > MAX_IMAGE_PIXELS:
        raise _too_big(width, height)
    return fmt


def process_artwork(
    src: StrPath, dst_dir: StrPath, max_size: int = 1500, thumb_size: int = 300
) -> Artwork:
    """Normalise a cover image and make its thumbnail in ``dst_dir``.

    Raises ``UnsupportedImage`` (not an accepted format), ``UnsafeImage`` (too many
    pixels) or ``CorruptFile`` (can't be decoded).
    """
    src_path = Path(src)
    fmt = sniff_image(src_path)
    image = _load(src_path, fmt.pillow_format, max_size)
    image = _fit(image, max_size)
    thumb = _square(image, thumb_size)
    out_dir = Path(dst_dir)
    image_path = out_dir / f"{src_path.stem}.jpg"
    if image_path.resolve() == src_path.resolve():
        image_path = out_dir / f"{src_path.stem}.cover.jpg"
    thumb_path = out_dir / f"{src_path.stem}.thumb.webp"
    _save_atomically(
        image, image_path, "JPEG", quality=JPEG_QUALITY, optimize=True, progressive=True
    )
    _save_atomically(thumb, thumb_path, "WEBP", quality=THUMB_QUALITY, method=4)
    return Artwork(image_path, "image/jpeg", thumb_path, image.width, image.height)


def artwork_from_bytes(
    data: bytes,
    mime: str | None,
    dst_dir: StrPath,
    max_size: int = 1500,
    thumb_size: int = 300,
) -> Artwork:
    """``process_artwork`` for cover art embedded in tags. ``mime`` is what the tag
    declared; it is only used in error messages, the bytes are sniffed like any upload."""
    if len(data) > MAX_ARTWORK_BYTES:
        raise UnsafeImage("the embedded artwork is too large")
    out_dir = Path(dst_dir)
    src = out_dir / f"embedded-{secrets.token_hex(8)}"
    src.write_bytes(data)
    try:
        return process_artwork(src, out_dir, max_size, thumb_size)
    except UnsupportedImage as exc:
        declared = f" (declared as {mime})" if mime else ""
        raise UnsupportedImage(f"the embedded artwork{declared}: {exc}") from None
    finally:
        src.unlink(missing_ok=True)


def _load(path: Path, pillow_format: str, max_size: int) -> Image.Image:
    """Decode (only with the sniffed format's plugin), rotate upright, convert to RGB."""
    # Pillow raises DecompressionBombError above twice MAX_IMAGE_PIXELS and only warns
    # between once and twice; the size check below refuses that band too. (No
    # warnings.catch_warnings() here: it isn't thread-safe and this may run in threads.)
    try:
        with Image.open(path, formats=[pillow_format]) as opened:
            width, height = opened.size
            if width <= 0 or height <= 0:
                raise CorruptFile("the image has no pixels")
            if width * height > MAX_IMAGE_PIXELS:
                raise _too_big(width, height)
            if opened.format == "JPEG":
                # Let libjpeg decode at 1/2, 1/4 or 1/8 scale: much faster for big
                # photos. The result is still at least the size we'll resize to.
                scale = min(1.0, max_size / max(width, height))
                opened.draft("RGB", (round(width * scale), round(height * scale)))
            opened.seek(0)  # first frame of an animation
            opened.load()
            image = ImageOps.exif_transpose(opened)
            return _to_srgb(image)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise UnsafeImage(f"the image has more than {MAX_IMAGE_PIXELS:,} pixels") from None
    except (UnsafeImage, CorruptFile):
        raise
    except UnidentifiedImageError:
        raise CorruptFile("the image can't be decoded; it may be truncated or damaged") from None
    except (OSError, ValueError, SyntaxError, EOFError) as exc:
        if isinstance(exc, FileNotFoundError):
            raise
        raise CorruptFile("the image can't be decoded; it may be truncated or damaged") from None


def _too_big(width: int, height: int) -> UnsafeImage:
    return UnsafeImage(
        f"the image is {width}x{height} pixels, more than {MAX_IMAGE_PIXELS:,} in all"
    )


def _to_srgb(image: Image.Image) -> Image.Image:
    """RGB in sRGB, transparency flattened onto the background."""
    icc = image.info.get("icc_profile")
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        flat = Image.new("RGB", rgba.size, BACKGROUND)
        flat.paste(rgba, mask=rgba.getchannel("A"))
        image = flat
    elif image.mode == "CMYK" and icc:
        pass  # converted by the profile below
    elif image.mode != "RGB":
        # "I;16" (16-bit PNG) converts badly directly; go through 8 bits first.
        if image.mode.startswith("I"):
            image = image.point(lambda v: v / 256).convert("L")
        image = image.convert("RGB")
    if icc:
        with contextlib.suppress(ImageCms.PyCMSError, OSError, ValueError):
            source = ImageCms.ImageCmsProfile(BytesIO(icc))
            converted = ImageCms.profileToProfile(image, source, _SRGB, outputMode="RGB")
            if converted is not None:
                image = converted
    if image.mode != "RGB":
        image = image.convert("RGB")
    image.info.clear()
    return image


def _fit(image: Image.Image, max_size: int) -> Image.Image:
    if max(image.size) <= max_size:
        return image
    scale = max_size / max(image.size)
    size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
    return image.resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0)


def _square(image: Image.Image, size: int) -> Image.Image:
    """Centre-crop to a square and scale to ``size`` (up if the image is smaller)."""
    return ImageOps.fit(image, (size, size), Image.Resampling.LANCZOS, centering=(0.5, 0.5))


def _save_atomically(image: Image.Image, path: Path, fmt: str, **options: object) -> None:
    partial = path.with_name(f".{path.name}.part")
    try:
        image.save(partial, fmt, **options)
        os.replace(partial, path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
