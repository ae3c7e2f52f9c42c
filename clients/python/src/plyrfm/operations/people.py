"""People and the site: who you are, profiles, now playing, search, figures."""

from __future__ import annotations

from collections.abc import Sequence

from plyrfm.effects import Operation
from plyrfm.exchange import Context, call, call_maybe
from plyrfm.models import Me, NowPlaying, Profile, SearchResults, Stats
from plyrfm.routes import ROUTES


def me(ctx: Context) -> Operation[Me]:
    return (yield from call(ctx, ROUTES["me"], Me))


def profile(ctx: Context, handle_or_did: str) -> Operation[Profile]:
    path = {"handle_or_did": handle_or_did.removeprefix("@")}
    return (yield from call(ctx, ROUTES["profile"], Profile, path=path))


def now_playing(ctx: Context, handle_or_did: str) -> Operation[NowPlaying | None]:
    who = handle_or_did.removeprefix("@")
    if who.startswith("did:"):
        route, path = ROUTES["now_playing"], {"did": who}
    else:
        route, path = ROUTES["now_playing_by_handle"], {"handle": who}
    return (yield from call_maybe(ctx, route, NowPlaying, path=path))


def search(
    ctx: Context, query: str, types: Sequence[str] | None, limit: int
) -> Operation[SearchResults]:
    params = {"q": query, "type": list(types) if types else None, "limit": limit}
    return (yield from call(ctx, ROUTES["search"], SearchResults, params=params))


def stats(ctx: Context) -> Operation[Stats]:
    return (yield from call(ctx, ROUTES["stats"], Stats))
