"""plyr-side rules, error paths and messages, and the values the validator refuses."""

from __future__ import annotations

import copy

import pytest

from plyr.atproto.dagcbor import CidLink, json_to_ipld
from plyr.atproto.lexicon import (
    LexiconRegistry,
    LexiconValidationError,
    grapheme_length,
    load_lexicons,
)
from tests.support.lexicon_records import (
    DID,
    DROP,
    E_ACUTE,
    FAMILY,
    FLAG,
    KITCHEN,
    KITCHEN_DOC,
    KITCHEN_ID,
    LIKE,
    LIST,
    PROFILE,
    STRONG_REF,
    THUMB,
    TID,
    TRACK,
    TRACK_URI,
    blob,
    rec,
)


@pytest.fixture(scope="module")
def registry() -> LexiconRegistry:
    return LexiconRegistry([*load_lexicons().documents(), KITCHEN_DOC])


def test_track_needs_audio_url_or_blob() -> None:
    registry = load_lexicons()
    collection = registry.collection("track")
    registry.validate_record(collection, TRACK)
    registry.validate_record(collection, rec(TRACK, audioUrl=DROP, audioBlob=blob()))
    registry.validate_record(collection, rec(TRACK, audioBlob=blob()))
    with pytest.raises(LexiconValidationError) as caught:
        registry.validate_record(collection, rec(TRACK, audioUrl=DROP))
    assert caught.value.path == "audioUrl"
    assert str(caught.value) == (
        "fm.plyr.track: audioUrl: a track needs audioUrl or audioBlob (or both)"
    )
    # The lexicon is checked first: a bad audioUrl is reported as such.
    with pytest.raises(LexiconValidationError, match="audioUrl: must be a valid URI"):
        registry.validate_record(collection, rec(TRACK, audioUrl="nope"))


def test_messages_name_the_field_path() -> None:
    registry = load_lexicons()
    features = [{"did": DID}, {"did": DID}, {"did": "nope"}]
    with pytest.raises(LexiconValidationError) as caught:
        registry.validate_record("fm.plyr.track", rec(TRACK, features=features))
    assert caught.value.collection == "fm.plyr.track"
    assert caught.value.path == "features[2].did"
    assert str(caught.value).startswith("fm.plyr.track: features[2].did: must be a valid DID")

    with pytest.raises(LexiconValidationError) as caught:
        registry.validate_record("fm.plyr.track", rec(TRACK, title="t" * 300))
    assert str(caught.value) == (
        "fm.plyr.track: title: must be at most 256 bytes long (UTF-8), got 300"
    )

    items = [{"subject": STRONG_REF}, {"subject": {"uri": TRACK_URI, "cid": 5}}]
    with pytest.raises(
        LexiconValidationError,
        match=r"^fm.plyr.list: items\[1\]\.subject\.cid: must be a string, got integer$",
    ):
        registry.validate_record("fm.plyr.list", rec(LIST, items=items))

    with pytest.raises(LexiconValidationError, match=r"^fm.plyr.like: subject: is required$"):
        registry.validate_record("fm.plyr.like", rec(LIKE, subject=DROP))

    with pytest.raises(LexiconValidationError, match=r"^fm.plyr.like: a record must be an object"):
        registry.validate_record("fm.plyr.like", None)

    with pytest.raises(LexiconValidationError, match=r"graphemes\), got 257$"):
        registry.validate_record("fm.plyr.actor.profile", rec(PROFILE, bio=E_ACUTE * 257))

    with pytest.raises(
        LexiconValidationError,
        match=r"audioBlob.mimeType: 'video/mp4' is not accepted \(only audio/\*\)",
    ):
        registry.validate_record("fm.plyr.track", rec(TRACK, audioBlob=blob("video/mp4")))


def test_record_keys() -> None:
    registry = load_lexicons()
    assert registry.record_key_type("fm.plyr.track") == "tid"
    assert registry.record_key_type("fm.plyr.actor.profile") == "literal:self"
    assert registry.record_key_type("fm.teal.alpha.actor.status") == "literal:self"
    for name in ("like", "comment", "list"):
        assert registry.record_key_type(registry.collection(name)) == "tid"
    registry.check_record_key("fm.plyr.like", TID)
    with pytest.raises(LexiconValidationError, match=r"^fm.plyr.like: rkey: 'self' must be a TID$"):
        registry.check_record_key("fm.plyr.like", "self")
    with pytest.raises(LexiconValidationError, match="must be 'self'"):
        registry.check_record_key("fm.plyr.actor.profile", TID)
    with pytest.raises(LexiconValidationError, match="not a valid record key"):
        registry.check_record_key("fm.plyr.track", "")


def test_build_record_sets_type() -> None:
    registry = load_lexicons()
    fields = {key: value for key, value in LIKE.items() if key != "$type"}
    record = registry.build_record("fm.plyr.like", fields)
    assert record == LIKE
    assert "$type" not in fields
    with pytest.raises(LexiconValidationError, match=r"\$type"):
        registry.build_record("fm.plyr.like", {**fields, "$type": "fm.plyr.track"})
    with pytest.raises(LexiconValidationError, match="createdAt"):
        registry.build_record("fm.plyr.like", {"subject": STRONG_REF})


def test_validation_changes_nothing(registry: LexiconRegistry) -> None:
    record = copy.deepcopy(KITCHEN)
    registry.validate_record(KITCHEN_ID, record)
    assert record == KITCHEN


def test_ipld_form_validates(registry: LexiconRegistry) -> None:
    """A record as DAG-CBOR decodes it (CidLink, bytes) is as valid as its JSON form."""
    ipld = json_to_ipld(KITCHEN)
    assert isinstance(ipld["link"], CidLink)
    assert isinstance(ipld["data"], bytes)
    registry.validate_record(KITCHEN_ID, ipld)
    track = json_to_ipld(rec(TRACK, audioBlob=blob()))
    registry.validate_record("fm.plyr.track", track)
    with pytest.raises(LexiconValidationError, match="data: must be at most 4 bytes"):
        registry.validate_record(KITCHEN_ID, rec(ipld, data=b"12345"))


def test_numbers_outside_the_data_model(registry: LexiconRegistry) -> None:
    for value, reason in [
        (3.0, "floats are not allowed"),
        (float("nan"), "floats are not allowed"),
        (1 << 63, "signed 64-bit"),
        (False, "got boolean"),
    ]:
        with pytest.raises(LexiconValidationError, match=reason):
            registry.validate_record(KITCHEN_ID, rec(KITCHEN, count=value))


def test_strings_must_be_valid_unicode(registry: LexiconRegistry) -> None:
    with pytest.raises(LexiconValidationError, match="lone surrogate"):
        registry.validate_record(KITCHEN_ID, rec(KITCHEN, note="\ud800"))


def test_grapheme_length() -> None:
    assert grapheme_length("") == 0
    assert grapheme_length("abc") == 3
    assert grapheme_length(E_ACUTE * 3) == 3
    assert grapheme_length(FAMILY + THUMB + FLAG * 2) == 4
    assert grapheme_length("\r\n") == 1
