"""plyr's permission set (`include:<namespace>.authFullApp`): the document itself (loaded,
served, published), and sign-in against the real PDS both where it resolves the set and
where it cannot (the fallback to the collections one by one). The scopes asked for and the
granted-scope check are in tests/test_oauth_scopes.py."""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import shutil
import subprocess
from collections.abc import AsyncIterator, Iterator
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.async_api import Error as PlaywrightError
from playwright.async_api import Page
from sqlalchemy import select

from plyr.atproto.devnet import Network
from plyr.atproto.lexicon import LexiconError, LexiconRegistry, bundled_documents, load_lexicons
from plyr.atproto.lexicon.publishing import dns_name, schema_record
from plyr.atproto.tid import next_tid
from plyr.atproto.xrpc import ScopeMissing
from plyr.auth import oauth, signin
from plyr.auth.sessions import repo_for
from plyr.db.models import AuthSession, OAuthRequest
from plyr.runtime import Runtime
from tests.conftest import devnet_settings, make_settings
from tests.support.browser import sign_in_at_pds, start_sign_in
from tests.support.cli import plyr_env, run_plyr
from tests.support.databases import clear_tables
from tests.support.lexicon_net import AUTHORITY, network_resolving_lexicons, publish
from tests.support.plyr_server import PlyrServer, running_plyr
from tests.support.plyr_users import public_record

MEMORY = "sqlite+aiosqlite:///:memory:"
NODE_MODULES = Path(__file__).resolve().parents[1] / "atproto-net" / "node_modules"
REFERENCE_SCRIPT = Path(__file__).parent / "support" / "lexicon_reference.mjs"
# What the PDS grants for include:fm.plyr.authFullApp (its own spelling: sorted, no actions).
EXPANDED = (
    "repo?collection=fm.plyr.actor.profile&collection=fm.plyr.comment"
    "&collection=fm.plyr.like&collection=fm.plyr.list&collection=fm.plyr.track"
)


# --- the document -----------------------------------------------------------------------


def test_permission_set_document() -> None:
    dev = load_lexicons("fm.plyr.dev")
    document = dev.document("fm.plyr.dev.authFullApp")
    assert document["defs"]["main"]["type"] == "permission-set"
    (permission,) = dev.permission_set("fm.plyr.dev.authFullApp")
    assert permission["resource"] == "repo"
    assert permission["action"] == ["create", "update", "delete"]
    # every collection plyr writes, moved to the namespace with the rest
    assert sorted(permission["collection"]) == sorted(
        c for c in dev.collections if c.startswith("fm.plyr.dev.")
    )
    assert "fm.plyr.dev.authFullApp" not in dev.collections  # not a record type


def _set(**changes: Any) -> dict[str, Any]:
    permission = {
        "type": "permission",
        "resource": "repo",
        "action": ["create"],
        "collection": ["com.example.thing"],
    } | changes
    return {
        "lexicon": 1,
        "id": "com.example.authAll",
        "defs": {"main": {"type": "permission-set", "permissions": [permission]}},
    }


@pytest.mark.parametrize(
    ("document", "message"),
    [
        (_set(resource="blob", accept=["image/*"]), "repo and rpc permissions only"),
        (_set(collection=["org.other.thing"]), "outside com.example"),
        (_set(collection=["*"]), "not an NSID"),
        (_set(collection=[]), "needs collection"),
        (_set(action=["create", "read"]), "action must list"),
        (_set(type="perm"), "of type"),
        (_set(resource="rpc", lxm=["com.example.getThing"], aud=3), "aud must be a string"),
    ],
)
def test_bad_permission_sets_fail_at_load(document: dict[str, Any], message: str) -> None:
    LexiconRegistry([*bundled_documents(), _set()])  # the unchanged one loads
    with pytest.raises(LexiconError, match=message):
        LexiconRegistry([*bundled_documents(), document])


def test_where_a_document_is_published() -> None:
    assert dns_name("fm.plyr.authFullApp") == "_lexicon.plyr.fm"
    assert dns_name("fm.plyr.actor.profile") == "_lexicon.actor.plyr.fm"
    document = load_lexicons().document("fm.plyr.authFullApp")
    assert schema_record(document) == {"$type": "com.atproto.lexicon.schema", **document}


def _reference_check(documents: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The atproto project's own document checks (@atproto/lexicon, @atproto/lex-document)."""
    if shutil.which("node") is None or not (NODE_MODULES / "@atproto/lexicon").exists():
        pytest.skip("the reference validators are not installed (npm ci in atproto-net)")
    completed = subprocess.run(
        ["node", str(REFERENCE_SCRIPT), str(NODE_MODULES)],
        input=json.dumps({"docs": documents, "cases": []}),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    found: list[dict[str, Any]] = json.loads(completed.stdout)["documents"]
    return found


async def test_lexicons_are_served(tmp_path: Path, db_url: str) -> None:
    settings = make_settings(tmp_path, db_url, atproto_namespace="fm.plyr.dev")
    async with running_plyr(settings) as plyr, httpx.AsyncClient(base_url=plyr.url) as http:
        index = await http.get("/lexicons")
        served = await http.get("/lexicons/fm.plyr.dev.authFullApp.json")
        missing = await http.get("/lexicons/fm.plyr.authFullApp.json")
    assert index.status_code == 200
    listed = {item["id"]: item for item in index.json()["lexicons"]}
    assert listed["fm.plyr.dev.authFullApp"]["type"] == "permission-set"
    assert listed["fm.plyr.dev.track"]["url"] == f"{plyr.url}/lexicons/fm.plyr.dev.track.json"
    assert served.status_code == 200
    assert served.headers["content-type"] == "application/json"
    assert served.headers["access-control-allow-origin"] == "*"
    document = served.json()
    assert document == load_lexicons("fm.plyr.dev").document("fm.plyr.dev.authFullApp")
    assert missing.status_code == 404  # another namespace's set is not this plyr's
    # The served document passes the atproto project's document checks.
    (checked,) = _reference_check([document])
    assert checked == {"id": "fm.plyr.dev.authFullApp", "lexicon": None, "lexSchema": None}


# --- against the real PDS ---------------------------------------------------------------


@pytest.fixture(scope="module")
def lexicon_net(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Network]:
    with network_resolving_lexicons(tmp_path_factory.mktemp("lexicon-net")) as network:
        yield network


@pytest.fixture
async def published(lexicon_net: Network) -> Network:
    """plyr's documents (namespace fm.plyr) published at the authority."""
    await publish(lexicon_net, load_lexicons().documents())
    return lexicon_net


async def _requested_scope(runtime: Runtime) -> str:
    async with runtime.sessions() as db:
        (row,) = (await db.execute(select(OAuthRequest))).scalars()
        return row.scope


async def _session_of(runtime: Runtime, did: str) -> AuthSession:
    async with runtime.sessions() as db:
        rows = await db.execute(
            select(AuthSession).where(AuthSession.did == did).order_by(AuthSession.created_at)
        )
        found = list(rows.scalars())
    assert found, "no session"
    return found[-1]


@pytest.fixture
async def serve(db_url: str, tmp_path: Path) -> AsyncIterator[Any]:
    """Start plyr against a network with settings; tables are emptied afterwards."""
    async with AsyncExitStack() as stack:
        started: list[PlyrServer] = []

        async def start(net: Network, **overrides: object) -> PlyrServer:
            folder = tmp_path / f"plyr{len(started)}"
            server = await stack.enter_async_context(
                running_plyr(devnet_settings(folder, db_url, net, **overrides))
            )
            started.append(server)
            return server

        yield start
        if started:
            await clear_tables(started[0].runtime.engine)


async def test_without_resolution_sign_in_asks_collection_by_collection(
    atproto_net: Network, serve: Any
) -> None:
    """The shared network's PDS resolves no lexicon (no DNS): auto falls back at PAR, on
    fails plainly."""
    plyr = await serve(atproto_net, oauth_permission_set="auto")
    await signin.begin(plyr.runtime, identifier="alice.test", purpose="login")
    asked = (await _requested_scope(plyr.runtime)).split()
    assert "repo:fm.plyr.track" in asked
    assert not any(scope.startswith("include:") for scope in asked)
    strict = await serve(atproto_net, oauth_permission_set="on")
    with pytest.raises(oauth.ScopeRefused):
        await signin.begin(strict.runtime, identifier="alice.test", purpose="login")


@pytest.mark.browser
async def test_sign_in_through_the_permission_set(
    page: Page, published: Network, serve: Any
) -> None:
    net = published
    plyr = await serve(net, oauth_permission_set="auto")
    alice = net.account("alice.test")
    await start_sign_in(page, plyr.url, "alice.test")
    await page.wait_for_url(re.compile(r".*/oauth/authorize.*"))
    assert "include:fm.plyr.authFullApp" in (await _requested_scope(plyr.runtime)).split()
    await sign_in_at_pds(page, handle="alice.test", password=alice.password)
    await page.wait_for_url(f"{plyr.url}/")

    session = await _session_of(plyr.runtime, alice.did)
    granted = session.scope.split()
    assert EXPANDED in granted  # the PDS expanded the set it resolved…
    assert not any(scope.startswith("include:") for scope in granted)  # …and kept no include
    assert "repo:fm.plyr.track" not in granted  # nor did plyr ask one by one

    # The PDS enforces what the set granted: plyr's records yes, a Bluesky post no.
    repo = await repo_for(plyr.runtime, session)
    record = {
        "title": "through the set",
        "artist": "alice",
        "fileType": "mp3",
        "audioUrl": "https://plyr.example/a",
        "createdAt": "2026-11-25T10:00:00.000Z",
    }
    written = await repo.put_record("fm.plyr.track", next_tid(), record)
    assert (await public_record(net, written.uri)) is not None
    with pytest.raises(ScopeMissing):
        await repo.xrpc.procedure(
            "com.atproto.repo.createRecord",
            {
                "repo": alice.did,
                "collection": "app.bsky.feed.post",
                "record": {
                    "$type": "app.bsky.feed.post",
                    "text": "x",
                    "createdAt": record["createdAt"],
                },
            },
        )


@pytest.mark.browser
async def _consent(page: Page, landing: str) -> None:
    """Click "Authorize" if the PDS asks (it may answer at once) and land at `landing`.
    The click's own wait is not relied on: when the redirect replaces the page while the
    click is being checked, playwright retries on the page it left until it times out."""
    authorize = page.get_by_role("button", name="Authorize", exact=True)
    click = asyncio.ensure_future(authorize.click())
    try:
        await page.wait_for_url(landing, timeout=30_000)
    finally:
        click.cancel()
        with contextlib.suppress(asyncio.CancelledError, PlaywrightError):
            await click


async def test_an_old_published_set_gets_a_second_authorization(
    page: Page, lexicon_net: Network, serve: Any
) -> None:
    """The authority still publishes a set without lists: the PDS grants that, plyr sees it
    is less than it needs and asks again, collection by collection."""
    namespace = "fm.plyr.stale"
    stale = load_lexicons(namespace).document(f"{namespace}.authFullApp")
    permission = stale["defs"]["main"]["permissions"][0]
    permission["collection"].remove(f"{namespace}.list")
    await publish(lexicon_net, [stale])
    plyr = await serve(lexicon_net, oauth_permission_set="auto", atproto_namespace=namespace)
    alice = lexicon_net.account("alice.test")

    await start_sign_in(page, plyr.url, "alice.test")
    await page.wait_for_url(re.compile(r".*/oauth/authorize.*"))
    first = page.url
    # Remembered, so the second authorization goes straight to the consent page.
    await sign_in_at_pds(page, handle="alice.test", password=alice.password, remember=True)
    # Back at plyr's callback, which sends the browser to a second authorization.
    await page.wait_for_url(lambda url: "/oauth/authorize" in url and url != first)
    # The PDS may ask for consent again or (the account remembered) answer at once, before
    # the pending request could be read here: the granted scope below shows what was asked.
    await _consent(page, f"{plyr.url}/")

    granted = (await _session_of(plyr.runtime, alice.did)).scope.split()
    assert "repo:fm.plyr.stale.list" in granted
    assert not any(scope.startswith("repo?") for scope in granted)


async def test_publish_command_is_idempotent(lexicon_net: Network, tmp_path: Path) -> None:
    env = plyr_env(
        tmp_path / "data",
        PLYR_ATPROTO_NAMESPACE="fm.plyr.cli",
        PLYR_LEXICON_APP_PASSWORD=AUTHORITY[1],
    )
    args = ("lexicons", "publish", "--identifier", AUTHORITY[0], "--pds", lexicon_net.pds_url)
    first = await run_plyr(*args, "--only", "fm.plyr.cli.authFullApp", env=env, cwd=tmp_path)
    assert first.returncode == 0, first
    assert re.search(r"^created\s+fm\.plyr\.cli\.authFullApp\s+at://", first.output, re.M), first
    authority = lexicon_net.account(AUTHORITY[0]).did
    assert f'_lexicon.cli.plyr.fm  TXT  "did={authority}"' in first.output
    again = await run_plyr(*args, "--only", "fm.plyr.cli.authFullApp", env=env, cwd=tmp_path)
    assert re.search(r"^unchanged\s+fm\.plyr\.cli\.authFullApp", again.output, re.M), again
    stored = await public_record(
        lexicon_net, f"at://{authority}/com.atproto.lexicon.schema/fm.plyr.cli.authFullApp"
    )
    assert stored is not None
    expected = schema_record(load_lexicons("fm.plyr.cli").document("fm.plyr.cli.authFullApp"))
    assert stored["value"] == expected
    wrong = await run_plyr(*args, "--only", "fm.plyr.track", env=env, cwd=tmp_path)
    assert wrong.returncode == 1
    assert "not a document of fm.plyr.cli" in wrong.output
