"""The Bluesky post a share writes, built without a network: its text, link facets (UTF-8
byte offsets), link card, content warnings, and what a grant must hold to post."""

from __future__ import annotations

from pathlib import Path

import pytest

from plyr.atproto.lexicon import LexiconValidationError, grapheme_length, load_lexicons
from plyr.auth import signin
from plyr.auth.client import scopes_for
from plyr.db.models import Track
from plyr.social import bluesky
from tests.conftest import make_settings

LINK = "https://plyr.example/tracks/42"
NOW = "2026-11-25T10:00:00.000Z"
FLAG = "\U0001f1eb\U0001f1f7"  # one character, 8 bytes


def _slices(text: str) -> list[str]:
    raw = text.encode()
    return [
        raw[f["index"]["byteStart"] : f["index"]["byteEnd"]].decode()
        for f in bluesky.link_facets(text)
    ]


def test_default_text_fits_one_post() -> None:
    assert bluesky.default_text("song", "alice", LINK) == f"song — alice\n{LINK}"
    long = bluesky.default_text("b" * 10, FLAG * 300, LINK)
    assert grapheme_length(long) == bluesky.MAX_GRAPHEMES
    assert long.endswith(f"…\n{LINK}")
    flags = long.split("\n")[0].removesuffix("…").removeprefix("b" * 10 + " — ")
    assert flags == FLAG * grapheme_length(flags)  # cut between characters, never inside


@pytest.mark.parametrize(
    ("text", "links"),
    [
        (f"héllo {FLAG} {LINK}", [LINK]),
        (f"({LINK}).", [LINK]),  # punctuation after a link is prose
        (f"{LINK}, and {LINK}/x!", [LINK, f"{LINK}/x"]),
        ("no links here, not even plyr.example", []),
        ("https://exämple.com is not an ASCII URI", []),
        (f"{LINK}?a=1&b=2#t", [f"{LINK}?a=1&b=2#t"]),
    ],
)
def test_link_facets_count_utf8_bytes(text: str, links: list[str]) -> None:
    assert _slices(text) == links
    for facet, link in zip(bluesky.link_facets(text), links, strict=True):
        assert facet["features"] == [{"$type": "app.bsky.richtext.facet#link", "uri": link}]


def _track(**fields: object) -> Track:
    values: dict[str, object] = {"id": 42, "title": "song", "artist_name": "alice"}
    values.update(fields)
    return Track(**values)


def test_card_text() -> None:
    assert bluesky.card_text(_track()) == ("song — alice", "listen on plyr")
    assert bluesky.card_text(_track(album="summer"))[1] == "from summer"
    _title, description = bluesky.card_text(_track(description="x" * 400))
    assert len(description) == bluesky.DESCRIPTION_MAX
    assert description.endswith("…")


def test_build_post_validates() -> None:
    registry = load_lexicons()
    post = bluesky.build_post(
        registry,
        text=f"{FLAG} {LINK}",
        link=LINK,
        card=("song — alice", "listen"),
        created_at=NOW,
        langs=["en"],
        labels=bluesky.warnings_of(_track(self_labels=["nudity", "!no-unauthenticated"])),
    )
    assert post["$type"] == "app.bsky.feed.post"
    assert post["embed"] == {
        "$type": "app.bsky.embed.external",
        "external": {"uri": LINK, "title": "song — alice", "description": "listen"},
    }
    assert post["facets"][0]["index"] == {"byteStart": 9, "byteEnd": 9 + len(LINK)}
    assert post["labels"] == {
        "$type": "com.atproto.label.defs#selfLabels",
        "values": [{"val": "nudity"}],  # the system value is the account's, not a post's
    }
    with pytest.raises(LexiconValidationError, match="text"):
        bluesky.build_post(registry, text=FLAG * 301, link=LINK, card=("t", "d"), created_at=NOW)
    with pytest.raises(LexiconValidationError, match="thumb"):
        bluesky.build_post(
            registry,
            text="x",
            link=LINK,
            card=("t", "d"),
            created_at=NOW,
            thumb={
                "$type": "blob",
                "ref": {"$link": "bafkreibme22gw2h7y2h7tg2fhqotaqjucnbc24deqo72b6mkl2egezxhvy"},
                "mimeType": "image/webp",
                "size": bluesky.THUMB_MAX_BYTES + 1,
            },
        )


def test_what_a_grant_needs_to_post(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, "sqlite+aiosqlite:///:memory:")
    base = scopes_for(settings, scrobbling=True)
    sharing = scopes_for(settings, scrobbling=True, sharing=True)
    assert not signin.client_shares(settings, base)
    assert signin.client_shares(settings, sharing)
    assert signin.client_shares(settings, "atproto transition:generic")
    assert signin.wants_of(settings, sharing) == signin.Wants(scrobbling=True, sharing=True)
    assert signin.wants_of(settings, base) == signin.Wants(scrobbling=True, sharing=False)
    # a create-only post scope is enough; another collection's is not
    assert not signin.client_shares(settings, "atproto repo:app.bsky.feed.like blob:image/*")
