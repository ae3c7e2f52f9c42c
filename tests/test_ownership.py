"""Who may change what, generated from the live OpenAPI: every mutating operation of the JSON
API (POST, PUT, PATCH, DELETE under /api/) is either owner-scoped, with a case below that
makes an object of alice's and calls the operation on it, or listed as not owner-scoped
with the reason. A new route in neither table fails `test_every_mutating_operation_has_a_case`
with its name.

Each owner-scoped operation is called on a fresh object as anonymous (401/403), as bob,
signed in with his cookie and CSRF token (403/404, and the object read back unchanged), and
as alice, its owner (2xx, and the object read back changed: the read-back can see the
change). A real plyr with its worker, on SQLite and PostgreSQL; alice and bob sign in
through the local PDS in Chromium.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.async_api import Browser
from sqlalchemy import select, update

from plyr.atproto.devnet import Network
from plyr.db.models import Artist, PublishState, Track
from tests.conftest import devnet_settings
from tests.support.audio import make_audio, make_image
from tests.support.databases import clear_tables
from tests.support.moderation_cases import MODERATION_CASES
from tests.support.plyr_server import PlyrServer, running_plyr
from tests.support.plyr_users import SignedIn, sign_in, upload_published

pytestmark = pytest.mark.browser

MUTATING = {"post", "put", "patch", "delete"}
MANY = 1_000_000


@dataclass
class World:
    plyr: PlyrServer
    alice: SignedIn  # the owner, and the one admin
    bob: SignedIn  # another signed-in user
    folder: Path
    track_id: int  # a published track of alice's that lists and comments use
    uploads: int = 0

    async def upload(self) -> int:
        self.uploads += 1
        audio = make_audio(
            self.folder / f"own{self.uploads}.mp3", "mp3", seconds=3, freq=300 + 40 * self.uploads
        )  # a different file each time: plyr refuses the same upload twice
        async with self.alice.client(self.plyr) as http:
            track = await upload_published(http, audio, title=f"owned {self.uploads}")
        return int(track["id"])

    def image(self) -> Path:
        return make_image(self.folder / "cover.png", "png", (300, 300))


Target = dict[str, Any]


@dataclass(frozen=True)
class Owned:
    """How to make an object of alice's, call the operation on it, and read it back."""

    make: Callable[[World], Awaitable[Target]]
    request: Callable[[World, Target], dict[str, Any]]  # httpx keyword arguments
    read: Callable[[World, Target], Awaitable[Any]]


async def _get(world: World, path: str) -> tuple[int, Any]:
    async with world.alice.client(world.plyr) as http:
        response = await http.get(path)
    return response.status_code, response.json()


# --- objects and how to read them back -------------------------------------------------------


async def new_track(world: World) -> Target:
    return {"track_id": await world.upload()}


async def failed_track(world: World) -> Target:
    """A track whose publishing failed for good (what `/publish` retries)."""
    track_id = await world.upload()
    async with world.plyr.runtime.sessions() as db:
        await db.execute(
            update(Track)
            .where(Track.id == track_id)
            .values(publish_state=PublishState.failed, publish_error="the PDS refused it")
        )
        await db.commit()
    return {"track_id": track_id}


async def read_track(world: World, target: Target) -> Any:
    status, body = await _get(world, f"/api/tracks/{target['track_id']}")
    return status, body


async def new_comment(world: World) -> Target:
    async with world.alice.client(world.plyr) as http:
        made = await http.post(
            f"/api/tracks/{world.track_id}/comments", json={"text": "mine", "timestamp_ms": 0}
        )
    assert made.status_code == 201, made.text
    return {"comment_id": made.json()["id"]}


async def read_comments(world: World, target: Target) -> Any:
    _status, found = await _get(world, f"/api/tracks/{world.track_id}/comments")
    return [(c["id"], c["text"]) for c in found if c["id"] == target["comment_id"]]


async def new_playlist(world: World) -> Target:
    async with world.alice.client(world.plyr) as http:
        made = await http.post(
            "/api/lists",
            json={"type": "playlist", "name": "mine", "track_ids": [world.track_id] * 2},
        )
    assert made.status_code == 201, made.text
    body = made.json()
    items = [entry["item_id"] for entry in body["entries"]]
    return {"list_id": body["id"], "item_id": items[0], "item_ids": items}


async def read_list(world: World, target: Target) -> Any:
    status, body = await _get(world, f"/api/lists/{target['list_id']}")
    if status != 200:
        return status
    entries = [entry["item_id"] for entry in body["entries"]]
    return body["name"], entries, body["image_url"]


async def flagged_image(world: World) -> Target:
    target = {"image": "https://images.example/flagged.png"}
    async with world.alice.client(world.plyr) as http:
        made = await http.post("/api/admin/sensitive-images", json=target)
    assert made.status_code == 201, made.text
    return target


async def unflagged_image(world: World) -> Target:
    return {"image": "https://images.example/not-yet.png"}


async def read_flags(world: World, target: Target) -> Any:
    _status, found = await _get(world, "/api/admin/sensitive-images")
    return sorted(str(row["url"]) for row in found)


async def taken_down_track(world: World) -> Target:
    track_id = await world.upload()
    async with world.alice.client(world.plyr) as http:
        done = await http.post(
            f"/api/admin/tracks/{track_id}/takedown", json={"reason": "a test takedown"}
        )
    assert done.status_code == 200, done.text
    return {"track_id": track_id}


async def _set_hidden(world: World, hidden: bool) -> Target:
    """bob's account, shown or hidden as the case needs (alice, the admin, hides it)."""
    did = world.bob.did
    if await read_account(world, {"account": did}) != hidden:
        action = "hide" if hidden else "unhide"
        async with world.alice.client(world.plyr) as http:
            done = await http.post(f"/api/admin/accounts/{did}/{action}", json={"reason": "test"})
        assert done.status_code == 200, done.text
    return {"account": did}


async def shown_account(world: World) -> Target:
    return await _set_hidden(world, False)


async def hidden_account(world: World) -> Target:
    return await _set_hidden(world, True)


async def read_account(world: World, target: Target) -> Any:
    async with world.plyr.runtime.sessions() as db:
        hidden_at = await db.scalar(select(Artist.hidden_at).where(Artist.did == target["account"]))
    return hidden_at is not None


async def new_jam(world: World) -> Target:
    """A jam alice hosts, which bob joined (a member, not the host)."""
    async with world.alice.client(world.plyr) as alice, world.bob.client(world.plyr) as bob:
        jam = (await alice.post("/api/jams", json={"track_ids": [world.track_id]})).json()
        await bob.post(f"/api/jams/{jam['code']}/members")
    return {"code": jam["code"]}


async def read_jam(world: World, target: Target) -> Any:
    _status, jam = await _get(world, f"/api/jams/{target['code']}")
    return {key: jam[key] for key in ("host", "playing", "ended", "version")}


def a_reason(world: World, target: Target) -> dict[str, Any]:
    return {"json": {"reason": "infringes a rights holder's recording"}}


def no_body(world: World, target: Target) -> dict[str, Any]:
    return {}


def image_form(world: World, target: Target) -> dict[str, Any]:
    return {"files": {"image": ("cover.png", world.image().read_bytes(), "image/png")}}


OWNED: dict[str, Owned] = {
    "PATCH /api/tracks/{track_id}": Owned(
        new_track, lambda w, t: {"json": {"title": "changed"}}, read_track
    ),
    "DELETE /api/tracks/{track_id}": Owned(new_track, no_body, read_track),
    "POST /api/tracks/{track_id}/artwork": Owned(new_track, image_form, read_track),
    "POST /api/tracks/{track_id}/publish": Owned(failed_track, no_body, read_track),
    "PATCH /api/comments/{comment_id}": Owned(
        new_comment, lambda w, t: {"json": {"text": "changed"}}, read_comments
    ),
    "DELETE /api/comments/{comment_id}": Owned(new_comment, no_body, read_comments),
    "PATCH /api/lists/{list_id}": Owned(
        new_playlist, lambda w, t: {"json": {"name": "changed"}}, read_list
    ),
    "DELETE /api/lists/{list_id}": Owned(new_playlist, no_body, read_list),
    "POST /api/lists/{list_id}/items": Owned(
        new_playlist, lambda w, t: {"json": {"track_id": w.track_id}}, read_list
    ),
    "DELETE /api/lists/{list_id}/items/{item_id}": Owned(new_playlist, no_body, read_list),
    "PUT /api/lists/{list_id}/order": Owned(
        new_playlist, lambda w, t: {"json": {"item_ids": t["item_ids"][::-1]}}, read_list
    ),
    "POST /api/lists/{list_id}/cover": Owned(new_playlist, image_form, read_list),
    # A jam's "owner" is its host; bob is a member of it.
    "POST /api/jams/{code}/control": Owned(
        new_jam, lambda w, t: {"json": {"action": "pause"}}, read_jam
    ),
    "PUT /api/jams/{code}/host": Owned(
        new_jam, lambda w, t: {"json": {"did": w.bob.did}}, read_jam
    ),
    "DELETE /api/jams/{code}": Owned(new_jam, no_body, read_jam),
    # Operators' routes: the "owner" is an admin (alice is in PLYR_ADMIN_DIDS), bob is not.
    "POST /api/admin/sensitive-images": Owned(
        unflagged_image, lambda w, t: {"json": {"image": t["image"]}}, read_flags
    ),
    "DELETE /api/admin/sensitive-images": Owned(
        flagged_image, lambda w, t: {"params": {"image": t["image"]}}, read_flags
    ),
    "DELETE /api/admin/tracks/{track_id}": Owned(new_track, no_body, read_track),
    "POST /api/admin/tracks/{track_id}/takedown": Owned(new_track, a_reason, read_track),
    "POST /api/admin/tracks/{track_id}/restore": Owned(taken_down_track, no_body, read_track),
    "POST /api/admin/accounts/{account}/hide": Owned(shown_account, a_reason, read_account),
    "POST /api/admin/accounts/{account}/unhide": Owned(hidden_account, no_body, read_account),
}
# The copyright review's routes (tests/support/moderation_cases.py).
OWNED.update({op: Owned(*case) for op, case in MODERATION_CASES.items()})

# Mutations that act on the caller's own things, or create them: there is no object of
# someone else's to reach. `True`: only for signed-in callers (anonymous gets 401).
NOT_OWNER_SCOPED: dict[str, tuple[bool, str]] = {
    "POST /api/tracks": (True, "uploads a new track, owned by the caller"),
    "POST /api/lists": (True, "creates a list, owned by the caller"),
    "POST /api/tracks/{track_id}/comments": (True, "adds the caller's own comment"),
    "POST /api/tracks/{track_id}/like": (True, "the caller's own like"),
    "DELETE /api/tracks/{track_id}/like": (True, "takes back the caller's own like"),
    "POST /api/tracks/{track_id}/share/bluesky": (
        True,
        "posts to the caller's own bluesky repository",
    ),
    "PATCH /api/preferences": (True, "the caller's own preferences"),
    "PUT /api/profile": (True, "the caller's own profile record"),
    "PUT /api/now-playing": (True, "the caller's own now playing"),
    "DELETE /api/now-playing": (True, "the caller's own now playing"),
    "POST /api/now-playing/stop": (True, "the caller's own now playing (a beacon)"),
    "PUT /api/queue": (True, "the caller's own queue"),
    "POST /api/jams": (True, "starts a jam the caller hosts"),
    "POST /api/jams/{code}/members": (True, "the caller joins a jam whose link they have"),
    "DELETE /api/jams/{code}/members/me": (True, "the caller leaves a jam"),
    "POST /api/records/repair": (True, "republishes the caller's own records"),
    "POST /api/me/exports": (True, "starts an export of the caller's own things"),
    "POST /api/tracks/{track_id}/listens": (
        False,
        "starts a listen of a playable track: anyone may, signed in or not",
    ),
    "POST /api/plays": (False, "counts a play for whoever holds the listen token"),
}


# --- fixtures ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
async def plyr(
    atproto_net: Network, db_url: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[PlyrServer]:
    settings = devnet_settings(
        tmp_path_factory.mktemp("plyr-ownership"),
        db_url,
        atproto_net,
        rate_limit_writes_per_minute=MANY,
        rate_limit_uploads_per_hour=MANY,
        admin_dids=[atproto_net.account("alice.test").did],
    )
    async with running_plyr(settings, worker=True) as server:
        yield server
    await clear_tables(server.runtime.engine)


@pytest.fixture(scope="module")
async def world(
    browser: Browser,
    plyr: PlyrServer,
    atproto_net: Network,
    tmp_path_factory: pytest.TempPathFactory,
) -> World:
    alice = await sign_in(browser, plyr, atproto_net, "alice.test")
    bob = await sign_in(browser, plyr, atproto_net, "bob.test")
    made = World(plyr, alice, bob, tmp_path_factory.mktemp("owned"), track_id=0)
    made.track_id = await made.upload()
    return made


@pytest.fixture(scope="module")
async def mutating_operations(plyr: PlyrServer) -> set[str]:
    async with httpx.AsyncClient(base_url=plyr.url) as http:
        schema = (await http.get("/api/openapi.json")).json()
    return {
        f"{method.upper()} {path}"
        for path, operations in schema["paths"].items()
        for method in operations
        if method in MUTATING and path.startswith("/api/")
    }


def _call(
    client: httpx.AsyncClient, operation: str, world: World, target: Target
) -> Awaitable[httpx.Response]:
    method, template = operation.split(" ", 1)
    path = template.format(**target)
    return client.request(method, path, **OWNED[operation].request(world, target))


# --- tests ---------------------------------------------------------------------------------


async def test_every_mutating_operation_has_a_case(mutating_operations: set[str]) -> None:
    covered = OWNED.keys() | NOT_OWNER_SCOPED.keys()
    assert sorted(mutating_operations - covered) == [], "mutating operations without a case"
    assert sorted(covered - mutating_operations) == [], "cases of operations that are gone"
    assert not OWNED.keys() & NOT_OWNER_SCOPED.keys()


@pytest.mark.parametrize("operation", sorted(OWNED))
async def test_only_the_owner_can(operation: str, world: World) -> None:
    case = OWNED[operation]
    target = await case.make(world)
    before = await case.read(world, target)

    async with httpx.AsyncClient(base_url=world.plyr.url, timeout=30) as anonymous:
        refused = await _call(anonymous, operation, world, target)
    assert refused.status_code in (401, 403), refused.text
    assert await case.read(world, target) == before

    async with world.bob.client(world.plyr) as bob:
        refused = await _call(bob, operation, world, target)
    assert refused.status_code in (403, 404), refused.text
    assert refused.json()["error"]["code"] != "csrf_failed"  # refused as not his, not as a forgery
    assert await case.read(world, target) == before

    async with world.alice.client(world.plyr) as alice:
        done = await _call(alice, operation, world, target)
    assert 200 <= done.status_code < 300, done.text
    assert await case.read(world, target) != before


@pytest.mark.parametrize(
    "operation", sorted(op for op, (signed_in, _why) in NOT_OWNER_SCOPED.items() if signed_in)
)
async def test_acting_on_your_own_things_needs_a_sign_in(operation: str, world: World) -> None:
    method, template = operation.split(" ", 1)
    path = template.format(track_id=world.track_id, code="NoSuchJamCode123")
    async with httpx.AsyncClient(base_url=world.plyr.url, timeout=30) as anonymous:
        refused = await anonymous.request(method, path)
    assert refused.status_code == 401, refused.text
    assert refused.json()["error"]["code"] == "sign_in_required"
