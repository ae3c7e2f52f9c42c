"""The social pages in Chromium against a running plyr (web + worker) and the real PDS:
likes, timed comments that seek the player, the add-to-playlist menu by keyboard, playlist
reordering by drag, the library's tabs, tag pages, the helpful 404 page, and the layout of
every page at desktop and phone widths (screenshots under test-artifacts/).

One piece on purpose: its tests are one story on one plyr and one signed-in alice with two
uploaded tracks, and later tests build on what earlier ones left (the track's like count, the
liked list's order, the playlists the add-to-playlist menu lists), so they rely on running in
this order. Split into files they would depend on the order pytest collects files in, or each
file would sign alice in and upload her tracks again."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest
from playwright.async_api import Browser, BrowserContext, Page, expect
from sqlalchemy import select

from plyr.atproto.devnet import Network
from plyr.auth.sessions import COOKIE_NAME
from plyr.db.models import ListType, MusicList, Track
from tests.conftest import devnet_settings
from tests.support.audio import make_audio
from tests.support.browser import ARTIFACTS
from tests.support.plyr_server import PlyrServer, running_plyr
from tests.support.plyr_users import SignedIn, public_record, sign_in, upload_published

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
async def plyr(
    atproto_net: Network, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[PlyrServer]:
    folder = tmp_path_factory.mktemp("plyr-social-pages")
    settings = devnet_settings(
        folder,
        f"sqlite+aiosqlite:///{folder / 'plyr.db'}",
        atproto_net,
    )
    async with running_plyr(settings, worker=True) as server:
        yield server


@pytest.fixture(scope="module")
async def alice(
    browser: Browser,
    plyr: PlyrServer,
    atproto_net: Network,
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[tuple[SignedIn, dict[str, int]]]:
    """Alice, signed in, with two published tracks of 20 s on an album, tagged."""
    user = await sign_in(browser, plyr, atproto_net, "alice.test")
    folder = tmp_path_factory.mktemp("social-audio")
    ids: dict[str, int] = {}
    async with user.client(plyr) as http:
        for index, name in enumerate(("first song", "second song")):
            source = make_audio(
                folder / f"{index}.mp3", "mp3", seconds=20.0, freq=330 + 110 * index
            )
            track = await upload_published(
                http, source, title=name, album="night drives", tags="ambient, night"
            )
            ids[name] = int(track["id"])
    return user, ids


@pytest.fixture
async def context(
    browser: Browser, plyr: PlyrServer, alice: tuple[SignedIn, dict[str, int]]
) -> AsyncIterator[BrowserContext]:
    """A browser signed in as alice (her session cookie)."""
    user, _ = alice
    new = await browser.new_context(viewport={"width": 1280, "height": 800})
    host = plyr.url.split("//", 1)[1].split(":")[0]
    await new.add_cookies(
        [{"name": COOKIE_NAME, "value": user.cookie, "domain": host, "path": "/"}]
    )
    yield new
    await new.close()


async def toast_says(page: Page, text: str) -> None:
    await expect(page.locator("#toasts")).to_contain_text(text, timeout=10_000)


async def audio_state(page: Page) -> tuple[str | None, float]:
    state = await page.evaluate(
        "(() => { const a = document.getElementById('player-audio');"
        " return [a.dataset.trackId || null, a.currentTime]; })()"
    )
    return state[0], float(state[1])


async def test_like_from_the_track_page(
    plyr: PlyrServer, context: BrowserContext, alice: tuple[SignedIn, dict[str, int]]
) -> None:
    _, ids = alice
    page = await context.new_page()
    await page.goto(f"{plyr.url}/tracks/{ids['first song']}")
    like = page.get_by_role("button", name="like", exact=True)
    await expect(like).to_have_attribute("aria-pressed", "false")
    await expect(page.locator(".like-count")).to_have_text("0 likes")
    await like.click()
    await toast_says(page, "liked “first song”")
    await expect(page.locator(".like-count")).to_have_text("1 like")
    await expect(like).to_have_attribute("aria-pressed", "true")
    await expect(like).to_be_focused()  # the swapped button keeps the focus
    await page.reload()
    await expect(page.get_by_role("button", name="like", exact=True)).to_have_attribute(
        "aria-pressed", "true"
    )
    await expect(page.locator(".like-count")).to_have_text("1 like")
    # Liked by: alice, linking to her artist page.
    await expect(page.locator(".liker-list")).to_contain_text("@alice.test")
    # The home page's rows count it too.
    await page.goto(f"{plyr.url}/")
    first = page.locator(".track-row", has_text="first song")
    await expect(first.locator(".likes")).to_contain_text("1")
    await page.close()


async def test_like_without_javascript_redirects_with_a_notice(
    plyr: PlyrServer, alice: tuple[SignedIn, dict[str, int]]
) -> None:
    user, ids = alice
    async with user.client(plyr) as http:
        response = await http.post(
            f"/tracks/{ids['second song']}/like",
            data={"csrf_token": user.csrf, "op": "like"},
            headers={"Accept": "text/html"},
        )
        assert response.status_code == 303
        assert response.headers["location"].startswith(f"/tracks/{ids['second song']}?done=")
        page = await http.get(response.headers["location"], headers={"Accept": "text/html"})
        assert "liked “second song”" in page.text
        assert 'aria-pressed="true"' in page.text
        undo = await http.post(
            f"/tracks/{ids['second song']}/like",
            data={"csrf_token": user.csrf, "op": "unlike"},
            headers={"Accept": "text/html"},
        )
        assert undo.status_code == 303
        refused = await http.post(
            f"/tracks/{ids['second song']}/like",
            data={"csrf_token": "nope", "op": "like"},
            headers={"Accept": "text/html", "X-CSRF-Token": "nope"},
        )
        assert refused.status_code == 403


async def test_timed_comment_seeks_the_player(
    plyr: PlyrServer, context: BrowserContext, alice: tuple[SignedIn, dict[str, int]]
) -> None:
    _, ids = alice
    first, second = ids["first song"], ids["second song"]
    page = await context.new_page()
    await page.goto(f"{plyr.url}/tracks/{first}")
    # While this track plays, the form takes the player's position.
    await page.get_by_role("button", name="play first song").click()
    await page.wait_for_function("() => document.getElementById('player-audio').currentTime > 1.2")
    at = page.get_by_label("at", exact=True)
    await expect(at).not_to_have_value("0:00")
    await page.locator('[data-player="toggle"]').click()  # pause
    # A position typed by hand wins.
    await at.fill("0:12")
    await page.get_by_label("your comment", exact=True).fill("the bass comes in here")
    await page.get_by_role("button", name="post", exact=True).click()
    await toast_says(page, "comment posted at 0:12")
    stamp = page.get_by_role("link", name="play from 0:12")
    await expect(stamp).to_be_visible()
    await expect(page.locator(".comment-text")).to_have_text("the bass comes in here")

    # Another track plays: the timestamp starts this one at the comment's position.
    await page.goto(f"{plyr.url}/tracks/{second}")
    await page.get_by_role("button", name="play second song").click()
    await page.wait_for_function("() => document.getElementById('player-audio').currentTime > 0.3")
    await page.goto(f"{plyr.url}/tracks/{first}")
    await page.get_by_role("link", name="play from 0:12").click()
    await page.wait_for_function(
        f"() => document.getElementById('player-audio').dataset.trackId === '{first}'"
        " && document.getElementById('player-audio').currentTime >= 11.5"
    )
    track_id, now = await audio_state(page)
    assert track_id == str(first)
    assert 11.5 <= now <= 15, now
    # The same track: a timestamp seeks within it.
    await page.get_by_label("your comment", exact=True).fill("and the ending")
    await page.get_by_label("at", exact=True).fill("0:03")
    await page.get_by_role("button", name="post", exact=True).click()
    await toast_says(page, "comment posted at 0:03")
    texts = await page.locator(".comment .timestamp").all_inner_texts()
    assert texts == ["0:03", "0:12"]  # in playback order
    await page.get_by_role("link", name="play from 0:03").click()
    await page.wait_for_function(
        "() => { const t = document.getElementById('player-audio').currentTime;"
        " return t >= 2.5 && t < 6; }"
    )

    # Edit, then delete, one's own comment.
    comment = page.locator(".comment", has_text="and the ending")
    await comment.locator("summary", has_text="edit").click()
    await comment.get_by_label("edit your comment").fill("and the long ending")
    await comment.get_by_role("button", name="save").click()
    await toast_says(page, "comment saved")
    await expect(page.locator(".comment", has_text="and the long ending")).to_be_visible()
    page.once("dialog", lambda dialog: dialog.accept())
    await page.get_by_role("button", name="delete your comment at 0:03").click()
    await toast_says(page, "comment deleted")
    await expect(page.locator(".comment")).to_have_count(1)
    await page.locator('[data-player="toggle"]').click()
    await page.close()


async def test_add_to_playlist_by_keyboard(
    plyr: PlyrServer, context: BrowserContext, alice: tuple[SignedIn, dict[str, int]]
) -> None:
    page = await context.new_page()
    await page.goto(f"{plyr.url}/")
    opener = page.get_by_role("button", name="add first song to a playlist")
    await expect(opener).to_have_attribute("aria-haspopup", "menu")
    await opener.focus()
    await page.keyboard.press("Enter")
    menu = page.get_by_role("menu")
    await expect(menu).to_be_visible()
    await expect(opener).to_have_attribute("aria-expanded", "true")
    new_item = menu.get_by_role("menuitem", name="new playlist…")
    await expect(new_item).to_be_focused()
    # Escape closes and gives the focus back.
    await page.keyboard.press("Escape")
    await expect(menu).to_have_count(0)
    await expect(opener).to_be_focused()
    await expect(opener).to_have_attribute("aria-expanded", "false")
    # A new playlist, inline.
    await page.keyboard.press("Enter")
    await expect(page.get_by_role("menuitem", name="new playlist…")).to_be_focused()
    await page.keyboard.press("Enter")
    name_box = page.get_by_label("new playlist name")
    await expect(name_box).to_be_focused()
    await page.keyboard.type("road trip")
    await page.keyboard.press("Enter")
    await toast_says(page, "made the playlist road trip with the track")
    await expect(opener).to_be_focused()
    # The next menu lists it; arrow keys move between the items.
    other = page.get_by_role("button", name="add second song to a playlist")
    await other.focus()
    await page.keyboard.press("ArrowDown")
    road_trip = page.get_by_role("menuitem", name="road trip")
    await expect(road_trip).to_be_focused()
    await page.keyboard.press("ArrowDown")
    await expect(page.get_by_role("menuitem", name="new playlist…")).to_be_focused()
    await page.keyboard.press("ArrowUp")
    await expect(road_trip).to_be_focused()
    await page.keyboard.press("Enter")
    await toast_says(page, "added “second song” to road trip")
    async with plyr.runtime.sessions() as db:
        playlist = await db.scalar(select(MusicList).where(MusicList.name == "road trip"))
    assert playlist is not None
    await page.goto(f"{plyr.url}/playlists/{playlist.id}")
    titles = await page.locator(".entry-row .track-title").all_inner_texts()
    assert titles == ["first song", "second song"]
    await page.close()


async def _new_playlist(plyr: PlyrServer, user: SignedIn, name: str, ids: list[int]) -> int:
    """A playlist made through the plain forms (no JavaScript), as a browser would post."""
    async with user.client(plyr) as http:
        made = await http.post(
            "/playlists/new",
            data={"csrf_token": user.csrf, "name": name},
            headers={"Accept": "text/html"},
        )
        assert made.status_code == 303, made.text
        list_id = int(made.headers["location"].split("?")[0].rsplit("/", 1)[1])
        for track_id in ids:
            added = await http.post(
                f"/playlists/{list_id}/add",
                data={"csrf_token": user.csrf, "track_id": str(track_id), "back": "/"},
                headers={"Accept": "text/html"},
            )
            assert added.status_code == 303
            assert "done=" in added.headers["location"]
    return list_id


async def test_playlist_reorders_by_drag_and_buttons(
    plyr: PlyrServer, context: BrowserContext, alice: tuple[SignedIn, dict[str, int]]
) -> None:
    user, ids = alice
    list_id = await _new_playlist(
        plyr, user, "drag me", [ids["first song"], ids["second song"], ids["first song"]]
    )
    page = await context.new_page()
    await page.goto(f"{plyr.url}/playlists/{list_id}")
    rows = page.locator(".entry-row")
    await expect(rows).to_have_count(3)
    items = [await rows.nth(i).get_attribute("data-item-id") for i in range(3)]
    # Drag the second row onto the first.
    await rows.nth(1).drag_to(rows.nth(0))
    await toast_says(page, "new order saved")
    expected = [items[1], items[0], items[2]]
    await page.reload()
    rows = page.locator(".entry-row")
    assert [await rows.nth(i).get_attribute("data-item-id") for i in range(3)] == expected
    # ↓ on the first row (htmx swaps the page; the focus stays on the moved row's button).
    await page.locator(f"#move-down-{expected[0]}").click()
    await toast_says(page, "moved down")
    expected = [expected[1], expected[0], expected[2]]
    await expect(page.locator(f"#move-down-{expected[1]}")).to_be_focused()
    await page.reload()
    rows = page.locator(".entry-row")
    assert [await rows.nth(i).get_attribute("data-item-id") for i in range(3)] == expected
    # Remove and rename.
    await page.locator(".entry-row").nth(2).get_by_role("button", name="remove first song").click()
    await toast_says(page, "removed from the list")
    await expect(page.locator(".entry-row")).to_have_count(2)
    await page.get_by_label("name", exact=True).fill("dragged")
    await page.get_by_role("button", name="rename").click()
    await toast_says(page, "renamed to dragged")
    await expect(page.locator("main h1")).to_have_text("dragged")
    await page.close()


async def test_library_tabs_album_and_tag_pages(
    plyr: PlyrServer, context: BrowserContext, alice: tuple[SignedIn, dict[str, int]]
) -> None:
    _, ids = alice
    page = await context.new_page()
    await page.goto(f"{plyr.url}/library")
    liked_tab = page.get_by_role("tab", name="liked")
    await expect(liked_tab).to_have_attribute("aria-selected", "true")
    await expect(page.get_by_role("tabpanel", name="liked")).to_be_visible()
    await liked_tab.focus()
    await page.keyboard.press("ArrowRight")
    playlists_tab = page.get_by_role("tab", name="playlists")
    await expect(playlists_tab).to_be_focused()
    await expect(playlists_tab).to_have_attribute("aria-selected", "true")
    await expect(page.get_by_role("tabpanel", name="playlists")).to_be_visible()
    await expect(page.get_by_role("tabpanel", name="liked")).to_be_hidden()
    assert "tab=playlists" in page.url
    await page.get_by_role("tab", name="albums").click()
    albums = page.get_by_role("tabpanel", name="albums")
    await expect(albums.get_by_role("link", name="night drives")).to_be_visible()
    await albums.get_by_role("link", name="night drives").click()
    await page.wait_for_url(f"{plyr.url}/albums/*")
    await expect(page.locator("main h1")).to_have_text("night drives")
    await expect(page.locator("main")).to_contain_text("0:40")  # two tracks of 20 s
    async with httpx.AsyncClient() as http:  # the page's own head (htmx swapped only main)
        html = (await http.get(page.url)).text
    assert '<meta property="og:type" content="music.album">' in html
    assert '<meta property="og:title" content="night drives">' in html
    assert '<meta name="twitter:card"' in html

    # The track page links its album and its tags.
    await page.goto(f"{plyr.url}/tracks/{ids['first song']}")
    await page.get_by_role("link", name="night drives").click()
    await page.wait_for_url(f"{plyr.url}/albums/*")
    await page.goto(f"{plyr.url}/tracks/{ids['first song']}")
    await page.get_by_role("link", name="#ambient").click()
    await page.wait_for_url(f"{plyr.url}/tags/ambient")
    await expect(page.locator("main h1")).to_have_text("#ambient")
    await expect(page.locator("main").get_by_role("link", name="first song")).to_be_visible()
    await expect(page.locator("main").get_by_role("link", name="second song")).to_be_visible()
    await page.close()


async def test_hidden_tags_filter_the_home_page(
    plyr: PlyrServer, context: BrowserContext, alice: tuple[SignedIn, dict[str, int]]
) -> None:
    page = await context.new_page()
    await page.goto(f"{plyr.url}/")
    await page.locator("#tag-filter summary").click()
    await page.get_by_label("a tag to hide").fill("night")
    await page.get_by_role("button", name="hide", exact=True).click()
    await toast_says(page, "hiding #night")
    await expect(page.locator(".track-row")).to_have_count(0)
    await page.goto(f"{plyr.url}/?tags=all")
    await expect(page.locator(".track-row")).to_have_count(2)
    await page.goto(f"{plyr.url}/")
    await page.locator("#tag-filter summary").click()
    await page.get_by_role("button", name="stop hiding #night").click()
    await toast_says(page, "showing #night")
    await expect(page.locator(".track-row")).to_have_count(2)
    await page.close()


async def test_private_liked_page_and_404_page(
    plyr: PlyrServer, context: BrowserContext, alice: tuple[SignedIn, dict[str, int]]
) -> None:
    async with httpx.AsyncClient(base_url=plyr.url, headers={"Accept": "text/html"}) as http:
        private = await http.get("/liked/alice.test")
        assert private.status_code == 404
        assert "keeps their liked tracks private" in private.text
        missing = await http.get("/no/such/page")
        assert missing.status_code == 404
        assert "/no/such/page" in missing.text
    page = await context.new_page()
    response = await page.goto(f"{plyr.url}/no/such/page")
    assert response is not None
    assert response.status == 404
    await expect(page.get_by_role("heading", name="page not found")).to_be_visible()
    # The signed-in header stays, though no route ran for this address.
    await expect(page.get_by_role("link", name="settings for @alice.test")).to_be_visible()
    main = page.locator("main")
    for name in ("home", "your library", "upload a track"):
        await expect(main.get_by_role("link", name=name)).to_be_visible()
    await page.get_by_label("search plyr").fill("first son")
    await page.get_by_role("button", name="find").click()
    await page.wait_for_url(f"{plyr.url}/search?q=first*son")
    await expect(page.locator("main").get_by_role("link", name="first song").first).to_be_visible()
    await page.close()


async def test_pages_at_desktop_and_phone_widths(
    plyr: PlyrServer, context: BrowserContext, alice: tuple[SignedIn, dict[str, int]]
) -> None:
    user, ids = alice
    playlist = await _new_playlist(
        plyr, user, "late night mix", [ids["second song"], ids["first song"]]
    )
    async with plyr.runtime.sessions() as db:
        album = await db.scalar(
            select(MusicList.id).where(MusicList.list_type == ListType.album).limit(1)
        )
    pages = {
        "home": "/",
        "track": f"/tracks/{ids['first song']}",
        "album": f"/albums/{album}",
        "playlist": f"/playlists/{playlist}",
        "tag": "/tags/ambient",
        "library": "/library",
        "library-playlists": "/library?tab=playlists",
        "artist": "/artists/alice.test",
        "liked-private": "/liked/alice.test",
        "add-to-playlist": f"/tracks/{ids['first song']}/add",
        "not-found": "/no/such/page",
    }
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    sideways: list[str] = []
    page = await context.new_page()
    for width, height, label in ((1280, 800, "desktop"), (375, 740, "phone")):
        await page.set_viewport_size({"width": width, "height": height})
        for name, path in pages.items():
            await page.goto(f"{plyr.url}{path}")
            await page.wait_for_load_state()
            overflow = await page.evaluate(
                "document.documentElement.scrollWidth - document.documentElement.clientWidth"
            )
            if overflow > 0:
                sideways.append(f"{path} scrolls sideways by {overflow}px at {width}px")
            await page.screenshot(path=ARTIFACTS / f"social-{name}-{label}.png", full_page=True)
        # The open menu fits the phone's screen too.
        await page.goto(f"{plyr.url}/")
        await page.get_by_role("button", name="add first song to a playlist").click()
        await expect(page.get_by_role("menu")).to_be_visible()
        box = await page.get_by_role("menu").bounding_box()
        assert box is not None
        assert box["x"] >= 0
        assert box["x"] + box["width"] <= width
        await page.screenshot(path=ARTIFACTS / f"social-menu-{label}.png")
    await page.close()
    assert not sideways, sideways


async def test_liked_list_reorders_and_its_record_follows(
    plyr: PlyrServer,
    context: BrowserContext,
    alice: tuple[SignedIn, dict[str, int]],
    atproto_net: Network,
) -> None:
    user, ids = alice
    async with user.client(plyr) as http:
        for name in ("first song", "second song"):
            assert (await http.post(f"/api/tracks/{ids[name]}/like")).status_code == 200
    page = await context.new_page()
    await page.goto(f"{plyr.url}/library")
    await page.get_by_role("link", name="change their order").click()
    await page.wait_for_url(f"{plyr.url}/library/liked")
    rows = page.locator(".entry-row")
    await expect(rows).to_have_count(2)
    before = [await rows.nth(i).locator(".track-title").inner_text() for i in range(2)]
    assert before == ["second song", "first song"]  # newest like on top
    await expect(page.get_by_role("button", name="remove first song")).to_have_count(0)
    await page.get_by_role("button", name="move second song down").click()
    await toast_says(page, "moved down")
    await page.reload()
    rows = page.locator(".entry-row")
    after = [await rows.nth(i).locator(".track-title").inner_text() for i in range(2)]
    assert after == ["first song", "second song"]
    # The liked list record in alice's PDS carries the new order.
    async with plyr.runtime.sessions() as db:
        liked = await db.scalar(
            select(MusicList).where(
                MusicList.did == user.did, MusicList.list_type == ListType.liked
            )
        )
        tracks = {
            track_id: uri
            for track_id, uri in await db.execute(
                select(Track.id, Track.atproto_uri).where(Track.id.in_(list(ids.values())))
            )
        }
    assert liked is not None
    liked_uri = f"at://{user.did}/{plyr.settings.atproto_namespace}.list/{liked.rkey}"
    wanted = [tracks[ids["first song"]], tracks[ids["second song"]]]
    async with asyncio.timeout(30):
        while True:
            record = await public_record(atproto_net, liked_uri)
            value = (record or {}).get("value", {})
            items = [item["subject"]["uri"] for item in value.get("items", [])]
            if items == wanted:
                break
            await asyncio.sleep(0.2)
    await page.close()
