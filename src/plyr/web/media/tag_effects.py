"""The images of tag effects (`plyr.social.tag_effects`): `/tag-effects/{name}` the file
from the operator's folder, `/tag-effects/{name}/still` its first frame as PNG (what the
track page shows a listener who asked for less motion). A name is looked up in the
folder's listing, never joined to a path; both answer 404 while the effect is off. Files
are small and few, so they are read whole rather than through `serve_object`; they are
cached a day by browsers and revalidated by ETag (the file's mtime and size)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request, Response

from plyr.serving.validators import etag_matches
from plyr.social import tag_effects
from plyr.social.tag_effects import EffectImage
from plyr.web.shared.deps import RuntimeDep

router = APIRouter(include_in_schema=False)

CACHE_CONTROL = "public, max-age=86400"
ImageName = Annotated[str, Path(min_length=1, max_length=255)]


def _unchanged(request: Request, etag: str) -> Response | None:
    header = request.headers.get("if-none-match")
    if header and etag_matches(header, etag, weak=True):
        return Response(status_code=304, headers={"ETag": etag, "Cache-Control": CACHE_CONTROL})
    return None


def _answer(body: bytes, media_type: str, etag: str) -> Response:
    headers = {
        "ETag": etag,
        "Cache-Control": CACHE_CONTROL,
        "Content-Disposition": "inline",
        "Cross-Origin-Resource-Policy": "same-origin",
    }
    return Response(body, media_type=media_type, headers=headers)


async def _image(runtime: RuntimeDep, name: str) -> EffectImage:
    return await tag_effects.image_named(runtime.settings, name)


@router.get("/tag-effects/{name}")
async def effect_image(name: ImageName, request: Request, runtime: RuntimeDep) -> Response:
    image = await _image(runtime, name)
    unchanged = _unchanged(request, image.etag)
    if unchanged is not None:
        return unchanged
    return _answer(await tag_effects.image_bytes(image), image.mime, image.etag)


@router.get("/tag-effects/{name}/still")
async def effect_still(name: ImageName, request: Request, runtime: RuntimeDep) -> Response:
    image = await _image(runtime, name)
    etag = image.etag[:-1] + '-still"'
    unchanged = _unchanged(request, etag)
    if unchanged is not None:
        return unchanged
    return _answer(await tag_effects.still_png(image), "image/png", etag)
