"""`GET /api/tags`: tags in use and how many published tracks carry each."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel

from plyr.social.tags import tag_counts
from plyr.web.shared.deps import RuntimeDep
from plyr.web.shared.errors import error_responses
from plyr.web.shared.examples import with_examples

router = APIRouter(tags=["social"])


class TagCount(BaseModel):
    model_config = with_examples({"name": "ambient", "tracks": 86})

    name: str
    tracks: int


@router.get("/api/tags", responses=error_responses(422))
async def tags(
    runtime: RuntimeDep, limit: Annotated[int, Query(ge=1, le=500)] = 100
) -> list[TagCount]:
    """Tags in use and how many published tracks carry each, most used first."""
    counted = await tag_counts(runtime, limit=limit)
    return [TagCount(name=name, tracks=count) for name, count in counted]
