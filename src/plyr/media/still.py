"""The first frame of an image as a small PNG: what a listener who asked for less motion
(`prefers-reduced-motion`) sees in place of an animated GIF, WebP or APNG, which CSS
cannot stop. The header is checked first (``check_image``: the sniffed format's decoder
only, no image bomb)."""

from __future__ import annotations

from io import BytesIO

from PIL import Image

from plyr.media.artwork import check_image
from plyr.media.errors import CorruptFile
from plyr.media.sniff import StrPath

STILL_MAX_SIDE = 320  # drawn at most ~140 css px: room for a 2x screen


def first_frame_png(path: StrPath, max_side: int = STILL_MAX_SIDE) -> bytes:
    """The image's first frame, scaled down to fit `max_side`, as PNG bytes (transparency
    kept). Raises what ``check_image`` raises, or ``CorruptFile`` when the pixels do not
    decode."""
    fmt = check_image(path)
    try:
        with Image.open(path, formats=[fmt.pillow_format]) as opened:
            opened.seek(0)
            frame = opened.convert("RGBA")
    except (OSError, ValueError, EOFError, SyntaxError) as exc:
        raise CorruptFile(f"the image does not decode ({exc})") from None
    frame.thumbnail((max_side, max_side))
    out = BytesIO()
    frame.save(out, format="PNG", optimize=True)
    return out.getvalue()
