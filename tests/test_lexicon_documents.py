"""The shipped lexicon documents, and documents that must fail when they load."""

from __future__ import annotations

import copy
import json
from importlib import resources
from typing import Any

import pytest

from plyr.atproto.lexicon import (
    LexiconError,
    LexiconRegistry,
    UnknownLexiconError,
    bundled_documents,
    load_lexicons,
)
from tests.support.lexicon_records import KITCHEN_DOC, STRONG_REF


def test_documents_ship_as_package_data() -> None:
    root = resources.files("plyr.lexicons")
    track = json.loads(root.joinpath("fm/plyr/track.json").read_text(encoding="utf-8"))
    assert track["id"] == "fm.plyr.track"
    ids = {document["id"] for document in bundled_documents()}
    assert ids == {
        "com.atproto.repo.strongRef",
        "com.atproto.label.defs",
        "fm.plyr.track",
        "fm.plyr.like",
        "fm.plyr.comment",
        "fm.plyr.list",
        "fm.plyr.actor.profile",
        "fm.plyr.authFullApp",
        "app.bsky.feed.post",
        "app.bsky.embed.external",
        "app.bsky.richtext.facet",
        "fm.teal.alpha.feed.defs",
        "fm.teal.alpha.feed.play",
        "fm.teal.alpha.actor.status",
    }


def test_track_document_follows_the_table() -> None:
    main = load_lexicons().document("fm.plyr.track")["defs"]["main"]
    record = main["record"]
    props = record["properties"]
    assert main["key"] == "tid"
    assert record["required"] == ["title", "artist", "fileType", "createdAt"]
    assert props["audioBlob"] == {**props["audioBlob"], "type": "blob", "accept": ["audio/*"]}
    assert props["audioUrl"]["format"] == props["imageUrl"]["format"] == "uri"
    assert props["features"]["maxLength"] == 10
    list_props = load_lexicons().document("fm.plyr.list")["defs"]["main"]["record"]["properties"]
    assert list_props["listType"]["knownValues"] == ["album", "playlist", "liked"]
    assert "enum" not in list_props["listType"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda d: d["defs"]["a"]["properties"]["x"].update(type="int"),
            "unknown or misplaced type",
        ),
        (lambda d: d["defs"]["a"].update(required=["x", "y"]), "required names a property"),
        (
            lambda d: d["defs"]["main"]["record"]["properties"]["ref"].update(ref="#nope"),
            "names no definition",
        ),
        (
            lambda d: d["defs"]["main"]["record"]["properties"]["lang"].update(format="lang"),
            "unknown string format",
        ),
        (lambda d: d["defs"]["main"].update(key="uuid"), "bad record key type"),
        (lambda d: d["defs"].update(second=d["defs"]["main"]), "must be main"),
        (lambda d: d.update(lexicon=2), "version 1"),
        (lambda d: d.update(id="nope"), "must be an NSID"),
        (
            lambda d: d["defs"]["main"]["record"]["properties"]["open"].update(
                refs=["#main", "#z"]
            ),
            "names no definition",
        ),
    ],
)
def test_bad_documents_fail_at_load(change: Any, message: str) -> None:
    document = copy.deepcopy(KITCHEN_DOC)
    change(document)
    with pytest.raises(LexiconError, match=message):
        LexiconRegistry([*bundled_documents(), document])


def test_duplicate_documents_fail_at_load() -> None:
    with pytest.raises(LexiconError, match="defined twice"):
        LexiconRegistry([*bundled_documents(), bundled_documents()[0]])


def test_unknown_collection() -> None:
    registry = load_lexicons()
    with pytest.raises(UnknownLexiconError):
        registry.validate_record("com.example.thing", {"$type": "com.example.thing"})
    with pytest.raises(UnknownLexiconError):
        registry.validate_record("com.atproto.repo.strongRef", STRONG_REF)  # not a record
