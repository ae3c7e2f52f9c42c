"""The account over the JSON API: who is calling (`/api/me`), their developer tokens
(`/api/tokens`, never the secrets) and their preferences (`/api/preferences`)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt

from plyr.auth.sessions import dev_tokens
from plyr.social.preferences import PreferencesView, get_preferences, update_preferences
from plyr.web.shared.caller import CallerDep, CsrfDep
from plyr.web.shared.deps import RuntimeDep
from plyr.web.shared.errors import ApiError, error_responses
from plyr.web.shared.examples import ALICE, LATER, WHEN, with_examples
from plyr.web.shared.limits import limit_writes

router = APIRouter()


class Me(BaseModel):
    model_config = with_examples(
        {
            "did": ALICE,
            "handle": "alice.example.com",
            "display_name": "alice",
            "via": "token",
            "scope": ["atproto", "include:fm.plyr.authFullApp"],
        }
    )

    did: str
    handle: str
    display_name: str | None
    via: str
    scope: list[str]


@router.get("/api/me", tags=["account"], responses=error_responses(401))
async def me(caller: CallerDep) -> Me:
    """Who the session cookie or `Authorization: Bearer <developer token>` belongs to."""
    return Me(
        did=caller.did,
        handle=caller.handle,
        display_name=caller.display_name,
        via=caller.via,
        scope=caller.session.scope.split(),
    )


class TokenInfo(BaseModel):
    model_config = with_examples(
        {
            "id": "3f9a1c7e5b2d4a60",
            "name": "my upload script",
            "hint": "plyr_Xk4q…",
            "created_at": WHEN,
            "last_used_at": LATER,
            "expires_at": "2025-08-12T07:31:12.482913+00:00",
        }
    )

    id: str
    name: str | None
    hint: str | None
    created_at: str
    last_used_at: str
    expires_at: str | None


@router.get("/api/tokens", tags=["account"], responses=error_responses(401))
async def list_tokens(runtime: RuntimeDep, caller: CallerDep) -> list[TokenInfo]:
    """The caller's developer tokens (never the secrets)."""
    return [_info(row) for row in await dev_tokens(runtime, caller.did)]


def _info(row: Any) -> TokenInfo:
    return TokenInfo(
        id=row.id[:16],
        name=row.name,
        hint=row.token_hint,
        created_at=row.created_at.isoformat(),
        last_used_at=row.last_used_at.isoformat(),
        expires_at=row.expires_at.isoformat() if row.expires_at else None,
    )


# --- preferences ------------------------------------------------------------------------


class PreferencesOut(BaseModel):
    model_config = with_examples(
        {
            "theme": "dark",
            "accent": "#7c5cff",
            "auto_advance": True,
            "loudness_levelling": True,
            "allow_comments": True,
            "show_liked": False,
            "show_sensitive": False,
            "show_warned_tracks": False,
            "hidden_tags": ["ai"],
            "transition": "crossfade",
            "crossfade_seconds": 6,
        }
    )

    theme: Literal["system", "light", "dark"]
    accent: str | None
    auto_advance: bool
    loudness_levelling: bool
    allow_comments: bool
    show_liked: bool
    show_sensitive: bool
    show_warned_tracks: bool
    hidden_tags: list[str]
    # How the player goes to the next track; `crossfade_seconds` is used by `crossfade`.
    transition: Literal["off", "gapless", "crossfade"]
    crossfade_seconds: int

    @classmethod
    def of(cls, view: PreferencesView) -> PreferencesOut:
        return cls.model_validate(view.as_dict())


class PreferencesPatch(BaseModel):
    """Any subset of the preferences; `accent: null` goes back to the default colour."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"theme": "light", "hidden_tags": ["ai", "podcast"]}]},
    )

    theme: Literal["system", "light", "dark"] | None = None
    accent: str | None = None
    auto_advance: StrictBool | None = None
    loudness_levelling: StrictBool | None = None
    allow_comments: StrictBool | None = None
    show_liked: StrictBool | None = None
    show_sensitive: StrictBool | None = None
    show_warned_tracks: StrictBool | None = None
    hidden_tags: list[str] | None = None
    transition: Literal["off", "gapless", "crossfade"] | None = None
    crossfade_seconds: Annotated[StrictInt, Field(ge=1, le=12)] | None = None


@router.get("/api/preferences", tags=["account"], responses=error_responses(401))
async def read_preferences(runtime: RuntimeDep, caller: CallerDep) -> PreferencesOut:
    """The caller's preferences (the defaults until they save any)."""
    return PreferencesOut.of(await get_preferences(runtime, caller.did))


@router.patch(
    "/api/preferences", tags=["account"], responses=error_responses(400, 401, 403, 422, 429)
)
async def patch_preferences(
    request: Request,
    runtime: RuntimeDep,
    caller: CallerDep,
    _csrf: CsrfDep,
    changes: PreferencesPatch,
) -> PreferencesOut:
    """Change some preferences; the fields left out stay as they are."""
    await limit_writes(runtime, request, caller.did)
    given = changes.model_dump(exclude_unset=True)
    for name, value in given.items():
        if value is None and name != "accent":  # only the accent has a "none" (the default)
            raise ApiError(
                422, "invalid_input", f"{name} cannot be null", [{"field": name, "message": "null"}]
            )
    return PreferencesOut.of(await update_preferences(runtime, caller.did, given))
