"""The base of the SDK's models: each mirrors one of plyr's OpenAPI component schemas
field for field and names it in `__schema__`; tests/clients/test_sdk_openapi.py compares
them with the live OpenAPI so they cannot drift. Unknown fields are ignored, so an older
SDK keeps working when the server adds some."""

from __future__ import annotations

from typing import ClassVar

from pydantic import BaseModel, ConfigDict


class PlyrModel(BaseModel):
    """A model of plyr's API. `__schema__` is the server's component schema it mirrors
    (None: a client-side model with no server counterpart)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    __schema__: ClassVar[str | None] = None
