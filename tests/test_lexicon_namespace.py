"""plyr's records move to the configured namespace (`fm.plyr` -> `fm.plyr.dev`, ...)."""

from __future__ import annotations

from pathlib import Path

import pytest

from plyr.atproto.lexicon import (
    BASE_NAMESPACE,
    LexiconValidationError,
    UnknownLexiconError,
    load_lexicons,
    rewrite_namespace,
)
from plyr.config import Settings
from tests.support.lexicon_records import DROP, TRACK, rec


def test_default_namespace_matches_settings() -> None:
    assert Settings.model_fields["atproto_namespace"].default == BASE_NAMESPACE


def test_collections_in_the_dev_namespace() -> None:
    dev = load_lexicons("fm.plyr.dev")
    assert dev.namespace == "fm.plyr.dev"
    assert dev.collection("track") == "fm.plyr.dev.track"
    assert dev.collection("actor.profile") == "fm.plyr.dev.actor.profile"
    assert set(dev.collections) == {
        "fm.plyr.dev.track",
        "fm.plyr.dev.like",
        "fm.plyr.dev.comment",
        "fm.plyr.dev.list",
        "fm.plyr.dev.actor.profile",
        "fm.teal.alpha.feed.play",
        "fm.teal.alpha.actor.status",
        "app.bsky.feed.post",  # what sharing a track writes; not plyr's, so not moved
    }
    # Other authorities are left alone; references to them still resolve.
    like = dev.document("fm.plyr.dev.like")
    assert like["defs"]["main"]["record"]["properties"]["subject"]["ref"] == (
        "com.atproto.repo.strongRef"
    )
    assert "com.atproto.repo.strongRef" in dev
    assert "fm.plyr.track" not in dev
    with pytest.raises(UnknownLexiconError):
        dev.collection("nope")


def test_dev_namespace_validates_its_own_type() -> None:
    dev = load_lexicons("fm.plyr.dev")
    record = rec(TRACK, __type="fm.plyr.dev.track")
    dev.validate_record("fm.plyr.dev.track", record)
    with pytest.raises(LexiconValidationError, match=r"\$type: must be 'fm.plyr.dev.track'"):
        dev.validate_record("fm.plyr.dev.track", TRACK)
    with pytest.raises(UnknownLexiconError):
        dev.validate_record("fm.plyr.track", TRACK)
    # The plyr-side rule follows the namespace too.
    with pytest.raises(LexiconValidationError, match="audioUrl or audioBlob"):
        dev.validate_record("fm.plyr.dev.track", rec(record, audioUrl=DROP))
    dev.check_record_key("fm.plyr.dev.actor.profile", "self")


def test_rewrite_namespace_touches_only_whole_segments() -> None:
    document = {
        "lexicon": 1,
        "id": "fm.plyr.thing",
        "description": "mentions fm.plyr.track in prose, which stays",
        "defs": {
            "main": {
                "type": "object",
                "properties": {
                    "local": {"type": "ref", "ref": "#other"},
                    "same": {"type": "ref", "ref": "fm.plyr.thing#other"},
                    "main": {"type": "ref", "ref": "fm.plyr.track"},
                    "foreign": {"type": "ref", "ref": "fm.plyrx.track"},
                    "strong": {"type": "ref", "ref": "com.atproto.repo.strongRef"},
                    "union": {"type": "union", "refs": ["#other", "fm.plyr.like", "fm.teal.x"]},
                    "kind": {"type": "string", "knownValues": ["fm.plyr.defs#album", "single"]},
                },
            },
            "other": {"type": "token"},
        },
    }
    out = rewrite_namespace(document, "fm.plyr.dev")
    props = out["defs"]["main"]["properties"]
    assert out["id"] == "fm.plyr.dev.thing"
    assert out["description"] == document["description"]
    assert props["local"]["ref"] == "#other"
    assert props["same"]["ref"] == "fm.plyr.dev.thing#other"
    assert props["main"]["ref"] == "fm.plyr.dev.track"
    assert props["foreign"]["ref"] == "fm.plyrx.track"
    assert props["strong"]["ref"] == "com.atproto.repo.strongRef"
    assert props["union"]["refs"] == ["#other", "fm.plyr.dev.like", "fm.teal.x"]
    assert props["kind"]["knownValues"] == ["fm.plyr.dev.defs#album", "single"]
    assert document["id"] == "fm.plyr.thing"  # the input is not changed
    assert rewrite_namespace(document, BASE_NAMESPACE) == document


def test_load_lexicons_is_cached_and_copies_out() -> None:
    assert load_lexicons() is load_lexicons("fm.plyr")
    registry = load_lexicons()
    documents = registry.documents()
    documents[0]["defs"].clear()
    registry.document("fm.plyr.track")["defs"].clear()
    assert registry.document("fm.plyr.track")["defs"]
    assert registry.documents()[0]["defs"]


def test_runtime_lexicons_follow_the_namespace_setting(tmp_path: Path) -> None:
    from plyr.runtime import Runtime
    from tests.conftest import make_settings

    settings = make_settings(
        tmp_path, "sqlite+aiosqlite:///:memory:", atproto_namespace="fm.plyr.dev"
    )
    runtime = Runtime.open(settings)
    assert runtime.lexicons.collection("track") == "fm.plyr.dev.track"
    assert runtime.lexicons.collection("actor.profile") == "fm.plyr.dev.actor.profile"
