"""XRPC surfaces beside the web app: today the labeler's `com.atproto.label.queryLabels`
and `com.atproto.label.subscribeLabels` (`labels.py`). Errors take the XRPC shape
(`{"error", "message"}`, `errors.py`), not the JSON API's; the routes stay out of the
OpenAPI (their contract is the lexicon). `web/app.py` includes `router`.
"""

from __future__ import annotations

from fastapi import APIRouter

from plyr.xrpc import labels

router = APIRouter()
router.include_router(labels.router)

__all__ = ["router"]
