"""Lexicon documents and the record validator.

`CASES` run through plyr's validator and, in `test_reference_validators_agree`, through
the atproto project's own validators (tests/support/lexicon_reference.mjs): the older
`@atproto/lexicon` and the `@atproto/lex-document` / `@atproto/lex-schema` stack a PDS
now validates with. Every case states plyr's verdict; a reference must give the same
one unless the case names it in `differs`, with the reason; there the reference must
give the opposite verdict, so a change on either side shows up.
"""

from __future__ import annotations

import copy
import json
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import pytest

from plyr.atproto.dagcbor import CidLink, cid_for_bytes, json_to_ipld
from plyr.atproto.lexicon import (
    BASE_NAMESPACE,
    LexiconError,
    LexiconRegistry,
    LexiconValidationError,
    UnknownLexiconError,
    bundled_documents,
    grapheme_length,
    load_lexicons,
    rewrite_namespace,
)
from plyr.config import Settings

ROOT = Path(__file__).resolve().parent.parent
NODE_MODULES = ROOT / "atproto-net" / "node_modules"
REFERENCE_SCRIPT = ROOT / "tests" / "support" / "lexicon_reference.mjs"
REFERENCE_PACKAGES = (
    "@atproto/lexicon",
    "@atproto/lex-document",
    "@atproto/lex-json",
    "@atproto/syntax",
)

DID = "did:plc:ewvi7nxzyoun6zhxrhs64oiz"
TID = "3jzfcijpj2z2a"
RECORD_CID = cid_for_bytes(b"a track record", "dag-cbor")
AUDIO_CID = cid_for_bytes(b"some audio", "raw")
NOW = "2024-05-01T12:34:56.789Z"
TRACK_URI = f"at://{DID}/fm.plyr.track/{TID}"
STRONG_REF = {"uri": TRACK_URI, "cid": RECORD_CID}

# Grapheme material: each is one user-perceived character of several code points.
E_ACUTE = "e\u0301"  # e + combining acute: 2 code points, 3 bytes
FLAG = "\U0001f1eb\U0001f1f7"  # regional indicators F R: 2 code points, 8 bytes
FAMILY = "\U0001f468\u200d\U0001f469\u200d\U0001f467\u200d\U0001f466"  # ZWJ: 7 code points
THUMB = "\U0001f44d\U0001f3fd"  # thumbs up + skin tone: 2 code points, 8 bytes


def blob(mime: str = "audio/mpeg", size: int | float = 123_456, cid: str = AUDIO_CID) -> Any:
    return {"$type": "blob", "ref": {"$link": cid}, "mimeType": mime, "size": size}


def rec(base: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """A copy of `base` with fields changed; a value of DROP removes the field."""
    out = copy.deepcopy(base)
    for key, value in changes.items():
        key = key.replace("__", "$")  # rec(x, __type=...) sets "$type"
        if value is DROP:
            out.pop(key, None)
        else:
            out[key] = value
    return out


DROP = object()

TRACK = {
    "$type": "fm.plyr.track",
    "title": "night drive",
    "artist": "the examples",
    "fileType": "mp3",
    "createdAt": NOW,
    "audioUrl": "https://plyr.example/audio/abc.mp3",
}
TRACK_FULL = rec(
    TRACK,
    audioBlob=blob(),
    album="demos",
    duration=215,
    features=[{"did": DID, "handle": "alice.test", "displayName": f"alice {THUMB}"}] * 10,
    imageUrl="https://plyr.example/img/abc.webp",
    description="d" * 5000,
)
LIKE = {"$type": "fm.plyr.like", "subject": STRONG_REF, "createdAt": NOW}
COMMENT = {
    "$type": "fm.plyr.comment",
    "subject": STRONG_REF,
    "text": "that drop at 1:02",
    "timestampMs": 62_000,
    "createdAt": NOW,
}
LIST = {
    "$type": "fm.plyr.list",
    "name": "summer",
    "listType": "playlist",
    "items": [{"subject": STRONG_REF}] * 3,
    "createdAt": NOW,
}
PROFILE = {"$type": "fm.plyr.actor.profile", "createdAt": NOW}
PLAY = {
    "$type": "fm.teal.alpha.feed.play",
    "trackName": "night drive",
    "artists": [
        {"artistName": "the examples", "artistMbId": "0383dadf-2a4e-4d10-a46a-e9e041da8eb3"}
    ],
    "duration": 215,
    "releaseName": "demos",
    "originUrl": "https://plyr.example/track/1",
    "musicServiceBaseDomain": "plyr.example",
    "submissionClientAgent": "plyr/0.1.0",
    "playedTime": NOW,
    "isrc": "USRC17607839",
}
STATUS = {
    "$type": "fm.teal.alpha.actor.status",
    "time": NOW,
    "expiry": "2024-05-01T12:44:56.789Z",
    "item": {"trackName": "night drive", "artists": [{"artistName": "the examples"}]},
}

# A test-only document that uses every type and constraint records may use.
KITCHEN_ID = "test.plyr.kitchen"
KITCHEN_DOC: dict[str, Any] = {
    "lexicon": 1,
    "id": KITCHEN_ID,
    "defs": {
        "main": {
            "type": "record",
            "key": "any",
            "record": {
                "type": "object",
                "required": ["count"],
                "nullable": ["note"],
                "properties": {
                    "count": {"type": "integer", "minimum": 1, "maximum": 10},
                    "level": {"type": "integer", "enum": [1, 2, 3]},
                    "fixed": {"type": "integer", "const": 7},
                    "flag": {"type": "boolean"},
                    "mode": {"type": "string", "enum": ["a", "b"]},
                    "kind": {"type": "string", "const": "k"},
                    "note": {"type": "string", "maxLength": 10},
                    "lang": {"type": "string", "format": "language"},
                    "who": {"type": "string", "format": "at-identifier"},
                    "coll": {"type": "string", "format": "nsid"},
                    "stamp": {"type": "string", "format": "tid"},
                    "key": {"type": "string", "format": "record-key"},
                    "short": {"type": "string", "minGraphemes": 2, "maxGraphemes": 3},
                    "link": {"type": "cid-link"},
                    "data": {"type": "bytes", "minLength": 2, "maxLength": 4},
                    "extra": {"type": "unknown"},
                    "open": {"type": "union", "refs": ["#a", "#b"]},
                    "closed": {"type": "union", "refs": ["#a", f"{KITCHEN_ID}#b"], "closed": True},
                    "image": {
                        "type": "blob",
                        "accept": ["image/png", "image/jpeg"],
                        "maxSize": 1000,
                    },
                    "tags": {
                        "type": "array",
                        "minLength": 1,
                        "maxLength": 3,
                        "items": {"type": "string", "maxLength": 8},
                    },
                    "ref": {"type": "ref", "ref": "com.atproto.repo.strongRef"},
                },
            },
        },
        "a": {"type": "object", "required": ["x"], "properties": {"x": {"type": "integer"}}},
        "b": {"type": "object", "properties": {"y": {"type": "string"}}},
    },
}
KITCHEN = {
    "$type": KITCHEN_ID,
    "count": 3,
    "level": 2,
    "fixed": 7,
    "flag": False,
    "mode": "a",
    "kind": "k",
    "note": "hi",
    "lang": "pt-BR",
    "who": "alice.test",
    "coll": "fm.plyr.track",
    "stamp": TID,
    "key": "self",
    "short": f"{E_ACUTE}{E_ACUTE}{FAMILY}",
    "link": {"$link": RECORD_CID},
    "data": {"$bytes": "AQID"},
    "extra": {"anything": [1, "two", None]},
    "open": {"$type": f"{KITCHEN_ID}#a", "x": 1},
    "closed": {"$type": f"{KITCHEN_ID}#b", "y": "z"},
    "image": blob("image/png", 1000),
    "tags": ["one", "two"],
    "ref": STRONG_REF,
}

LEXICON = "lexicon"  # @atproto/lexicon 0.6.2
LEX_SCHEMA = "lexSchema"  # @atproto/lex-document + @atproto/lex-schema (what the PDS runs)
BOTH = (LEXICON, LEX_SCHEMA)


@dataclass(frozen=True)
class Case:
    id: str
    nsid: str
    valid: bool
    record: Any = None
    rkey: str | None = None
    path: str | None = None  # where plyr's validator must locate the problem
    differs: dict[str, str] = field(default_factory=dict)  # reference -> why it disagrees


def ok(id: str, record: dict[str, Any], **kw: Any) -> Case:
    return Case(id, record["$type"], True, record, **kw)


def bad(id: str, record: Any, path: str, nsid: str | None = None, **kw: Any) -> Case:
    return Case(id, nsid or record["$type"], False, record, path=path, **kw)


def differ(reason: str, *who: str) -> dict[str, str]:
    return dict.fromkeys(who or BOTH, reason)


NO_TIMEZONE = "@atproto/lexicon takes a datetime without timezone; the spec requires one"
NO_ACCEPT = "@atproto/lexicon does not check blob accept/maxSize (lex-schema strict does)"
LEGACY_BLOB = "@atproto/lexicon reads legacy {cid, mimeType} blobs; plyr and the PDS refuse them"
FLOAT_SIZE = "@atproto/lexicon's BlobRef takes any number as size"
ASCII_URI = "the references take any non-space URI; plyr holds to RFC 3986 (ASCII only)"
AUDIO_RULE = "plyr's own rule: a track needs audioUrl or audioBlob; no lexicon can say so"
INTEGRAL_FLOAT = "JSON.parse reads 3.0 as the integer 3; plyr refuses every float"
UNKNOWN_ARRAY = "@atproto/lexicon takes an array for `unknown`; the spec wants an object"

CASES: list[Case] = [
    # --- fm.plyr.track
    ok("track-minimal", TRACK),
    ok("track-full", TRACK_FULL),
    ok("track-blob-only", rec(TRACK, audioUrl=DROP, audioBlob=blob("audio/flac"))),
    ok("track-unknown-fields-allowed", rec(TRACK, genre="synthwave", bpm=120, x={"y": [1]})),
    ok("track-title-256-bytes", rec(TRACK, title="t" * 256)),
    bad("track-title-257-bytes", rec(TRACK, title="t" * 257), "title"),
    ok("track-title-256-bytes-multibyte", rec(TRACK, title="é" * 128)),
    bad("track-title-counts-bytes-not-chars", rec(TRACK, title="é" * 129), "title"),
    bad("track-title-empty", rec(TRACK, title=""), "title"),
    bad("track-title-missing", rec(TRACK, title=DROP), "title"),
    bad("track-title-not-string", rec(TRACK, title=42), "title"),
    bad("track-title-null", rec(TRACK, title=None), "title"),
    ok("track-filetype-16", rec(TRACK, fileType="f" * 16)),
    bad("track-filetype-17", rec(TRACK, fileType="f" * 17), "fileType"),
    bad("track-createdat-missing", rec(TRACK, createdAt=DROP), "createdAt"),
    bad("track-createdat-words", rec(TRACK, createdAt="yesterday"), "createdAt"),
    bad("track-createdat-month-13", rec(TRACK, createdAt="2024-13-01T00:00:00Z"), "createdAt"),
    bad("track-createdat-date-only", rec(TRACK, createdAt="2024-05-01"), "createdAt"),
    bad(
        "track-createdat-no-timezone",
        rec(TRACK, createdAt="2024-05-01T12:34:56"),
        "createdAt",
        differs=differ(NO_TIMEZONE, LEXICON),
    ),
    ok("track-createdat-offset", rec(TRACK, createdAt="2024-05-01T12:34:56.123456+02:00")),
    bad("track-duration-float", rec(TRACK, duration=215.5), "duration"),
    bad(
        "track-duration-integral-float",
        rec(TRACK, duration=215.0),
        "duration",
        differs=differ(INTEGRAL_FLOAT),
    ),
    bad("track-duration-bool", rec(TRACK, duration=True), "duration"),
    bad("track-duration-string", rec(TRACK, duration="215"), "duration"),
    bad("track-duration-negative", rec(TRACK, duration=-1), "duration"),
    ok("track-duration-zero", rec(TRACK, duration=0)),
    bad("track-features-11", rec(TRACK, features=[{"did": DID}] * 11), "features"),
    bad(
        "track-feature-bad-did",
        rec(TRACK, features=[{"did": DID}, {"did": DID}, {"did": "alice.test"}]),
        "features[2].did",
    ),
    bad(
        "track-feature-missing-did", rec(TRACK, features=[{"handle": "a.test"}]), "features[0].did"
    ),
    bad(
        "track-feature-bad-handle",
        rec(TRACK, features=[{"did": DID, "handle": "not a handle"}]),
        "features[0].handle",
    ),
    ok(
        "track-feature-64-graphemes",
        rec(TRACK, features=[{"did": DID, "displayName": E_ACUTE * 64}]),
    ),
    bad(
        "track-feature-65-graphemes",
        rec(TRACK, features=[{"did": DID, "displayName": E_ACUTE * 65}]),
        "features[0].displayName",
    ),
    bad("track-features-not-array", rec(TRACK, features={"did": DID}), "features"),
    bad("track-album-257", rec(TRACK, album="a" * 257), "album"),
    bad("track-description-5001", rec(TRACK, description="d" * 5001), "description"),
    bad("track-audiourl-not-uri", rec(TRACK, audioUrl="not a url"), "audioUrl"),
    bad(
        "track-audiourl-non-ascii",
        rec(TRACK, audioUrl="https://plyr.example/café.mp3"),
        "audioUrl",
        differs=differ(ASCII_URI),
    ),
    bad("track-imageurl-no-scheme", rec(TRACK, imageUrl="//plyr.example/a.png"), "imageUrl"),
    bad(
        "track-blob-wrong-mime",
        rec(TRACK, audioBlob=blob("image/png")),
        "audioBlob.mimeType",
        differs=differ(NO_ACCEPT, LEXICON),
    ),
    bad(
        "track-blob-legacy",
        rec(TRACK, audioBlob={"cid": AUDIO_CID, "mimeType": "audio/mpeg"}),
        "audioBlob",
        differs=differ(LEGACY_BLOB, LEXICON),
    ),
    bad(
        "track-blob-float-size",
        rec(TRACK, audioBlob=blob(size=10.5)),
        "audioBlob.size",
        differs=differ(FLOAT_SIZE, LEXICON),
    ),
    bad("track-blob-extra-key", rec(TRACK, audioBlob={**blob(), "name": "a.mp3"}), "audioBlob"),
    bad("track-blob-no-type", rec(TRACK, audioBlob=rec(blob(), __type=DROP)), "audioBlob"),
    bad(
        "track-blob-bad-link",
        rec(TRACK, audioBlob=blob(cid="bafyfake12345678")),
        "audioBlob.ref.$link",
    ),
    bad("track-blob-is-string", rec(TRACK, audioBlob=AUDIO_CID), "audioBlob"),
    bad(
        "track-no-audio",
        rec(TRACK, audioUrl=DROP),
        "audioUrl",
        differs=differ(AUDIO_RULE),
    ),
    bad("track-type-missing", rec(TRACK, __type=DROP), "$type", nsid="fm.plyr.track"),
    bad("track-type-other", rec(TRACK, __type="fm.plyr.like"), "$type", nsid="fm.plyr.track"),
    bad(
        "track-type-main-suffix",
        rec(TRACK, __type="fm.plyr.track#main"),
        "$type",
        nsid="fm.plyr.track",
    ),
    bad("track-not-object", ["not", "a", "record"], "", nsid="fm.plyr.track"),
    # --- fm.plyr.like
    ok("like", LIKE),
    ok(
        "like-handle-authority",
        rec(LIKE, subject={**STRONG_REF, "uri": f"at://alice.test/fm.plyr.track/{TID}"}),
    ),
    bad(
        "like-subject-https",
        rec(LIKE, subject={**STRONG_REF, "uri": "https://plyr.example/t/1"}),
        "subject.uri",
    ),
    bad(
        "like-subject-bad-collection",
        rec(LIKE, subject={**STRONG_REF, "uri": f"at://{DID}/track/{TID}"}),
        "subject.uri",
    ),
    bad(
        "like-subject-bad-cid",
        rec(LIKE, subject={**STRONG_REF, "cid": "bafyfake12345678"}),
        "subject.cid",
    ),
    bad("like-subject-no-cid", rec(LIKE, subject={"uri": TRACK_URI}), "subject.cid"),
    bad("like-subject-string", rec(LIKE, subject=TRACK_URI), "subject"),
    bad("like-subject-missing", rec(LIKE, subject=DROP), "subject"),
    # --- fm.plyr.comment
    ok("comment", COMMENT),
    ok("comment-updated", rec(COMMENT, updatedAt="2024-05-02T00:00:00Z")),
    ok("comment-text-1000", rec(COMMENT, text="x" * 1000)),
    bad("comment-text-1001", rec(COMMENT, text="x" * 1001), "text"),
    bad("comment-text-empty", rec(COMMENT, text=""), "text"),
    bad("comment-timestamp-float", rec(COMMENT, timestampMs=1.5), "timestampMs"),
    bad("comment-timestamp-negative", rec(COMMENT, timestampMs=-5), "timestampMs"),
    bad("comment-timestamp-missing", rec(COMMENT, timestampMs=DROP), "timestampMs"),
    bad("comment-updated-bad", rec(COMMENT, updatedAt="2024-05-02 00:00:00"), "updatedAt"),
    # --- fm.plyr.list
    ok("list", LIST),
    ok("list-minimal", {"$type": "fm.plyr.list", "items": [], "createdAt": NOW}),
    ok("list-500-items", rec(LIST, items=[{"subject": STRONG_REF}] * 500)),
    bad("list-501-items", rec(LIST, items=[{"subject": STRONG_REF}] * 501), "items"),
    ok("list-known-value", rec(LIST, listType="liked")),
    ok("list-known-values-are-open", rec(LIST, listType="mixtape")),
    bad("list-type-not-string", rec(LIST, listType=1), "listType"),
    bad(
        "list-item-bad-uri",
        rec(
            LIST,
            items=[{"subject": STRONG_REF}] * 3 + [{"subject": {**STRONG_REF, "uri": "at://"}}],
        ),
        "items[3].subject.uri",
    ),
    bad("list-item-not-object", rec(LIST, items=[{"subject": STRONG_REF}, "x"]), "items[1]"),
    bad("list-items-missing", rec(LIST, items=DROP), "items"),
    ok("list-name-64-graphemes", rec(LIST, name=E_ACUTE * 64)),
    ok("list-name-mixed-graphemes", rec(LIST, name=FLAG * 20 + E_ACUTE * 30)),
    bad("list-name-65-graphemes", rec(LIST, name=E_ACUTE * 65), "name"),
    ok("list-name-256-bytes", rec(LIST, name=FLAG * 32)),
    bad("list-name-257-bytes", rec(LIST, name="a" + FLAG * 32), "name"),
    # --- fm.plyr.actor.profile
    ok("profile", PROFILE),
    ok(
        "profile-full", rec(PROFILE, bio="hello", avatar="https://cdn.example/a.jpg", updatedAt=NOW)
    ),
    ok("profile-bio-256-graphemes", rec(PROFILE, bio=E_ACUTE * 256)),
    bad("profile-bio-257-graphemes", rec(PROFILE, bio=E_ACUTE * 257), "bio"),
    ok("profile-bio-emoji", rec(PROFILE, bio=THUMB * 256)),
    bad("profile-bio-emoji-257", rec(PROFILE, bio=THUMB * 257), "bio"),
    bad("profile-bio-2561-bytes", rec(PROFILE, bio="b" * 2561), "bio"),
    bad("profile-avatar-bad", rec(PROFILE, avatar="avatar.png"), "avatar"),
    bad("profile-createdat-missing", rec(PROFILE, createdAt=DROP), "createdAt"),
    # --- teal.fm
    ok("play", PLAY),
    ok("play-minimal", {"$type": "fm.teal.alpha.feed.play", "trackName": "x"}),
    bad("play-trackname-missing", rec(PLAY, trackName=DROP), "trackName"),
    bad("play-trackname-257", rec(PLAY, trackName="t" * 257), "trackName"),
    bad("play-artist-no-name", rec(PLAY, artists=[{"artistMbId": "x"}]), "artists[0].artistName"),
    bad("play-duration-float", rec(PLAY, duration=215.25), "duration"),
    bad("play-playedtime-bad", rec(PLAY, playedTime="1714566896"), "playedTime"),
    ok("status", STATUS),
    bad("status-item-no-artists", rec(STATUS, item={"trackName": "x"}), "item.artists"),
    bad("status-expiry-bad", rec(STATUS, expiry="soon"), "expiry"),
    bad("status-time-missing", rec(STATUS, time=DROP), "time"),
    # --- every type and constraint, on the test-only document
    ok("kitchen", KITCHEN),
    ok("kitchen-minimal", {"$type": KITCHEN_ID, "count": 1}),
    bad("kitchen-int-below-min", rec(KITCHEN, count=0), "count"),
    bad("kitchen-int-above-max", rec(KITCHEN, count=11), "count"),
    bad("kitchen-int-bool", rec(KITCHEN, count=True), "count"),
    bad("kitchen-int-enum", rec(KITCHEN, level=4), "level"),
    bad("kitchen-int-const", rec(KITCHEN, fixed=8), "fixed"),
    bad("kitchen-bool-int", rec(KITCHEN, flag=1), "flag"),
    bad("kitchen-string-enum", rec(KITCHEN, mode="c"), "mode"),
    bad("kitchen-string-const", rec(KITCHEN, kind="K"), "kind"),
    ok("kitchen-nullable-null", rec(KITCHEN, note=None)),
    bad("kitchen-not-nullable-null", rec(KITCHEN, mode=None), "mode"),
    bad("kitchen-language", rec(KITCHEN, lang="english!"), "lang"),
    ok("kitchen-at-identifier-did", rec(KITCHEN, who=DID)),
    bad("kitchen-at-identifier", rec(KITCHEN, who="not an identifier"), "who"),
    bad("kitchen-nsid", rec(KITCHEN, coll="track"), "coll"),
    bad("kitchen-tid", rec(KITCHEN, stamp="3jzfcijpj2z2"), "stamp"),
    bad("kitchen-record-key", rec(KITCHEN, key=".."), "key"),
    bad("kitchen-min-graphemes", rec(KITCHEN, short=FAMILY), "short"),
    bad("kitchen-max-graphemes", rec(KITCHEN, short="abcd"), "short"),
    ok("kitchen-graphemes-flags", rec(KITCHEN, short=FLAG * 3)),
    bad("kitchen-cid-link-string", rec(KITCHEN, link=RECORD_CID), "link"),
    bad("kitchen-cid-link-bad", rec(KITCHEN, link={"$link": "nope"}), "link.$link"),
    ok("kitchen-bytes-4", rec(KITCHEN, data={"$bytes": "AQIDBA"})),
    bad("kitchen-bytes-5", rec(KITCHEN, data={"$bytes": "AQIDBAU="}), "data"),
    bad("kitchen-bytes-1", rec(KITCHEN, data={"$bytes": "AQ=="}), "data"),
    bad("kitchen-bytes-string", rec(KITCHEN, data="AQID"), "data"),
    bad("kitchen-unknown-string", rec(KITCHEN, extra="text"), "extra"),
    bad(
        "kitchen-unknown-array",
        rec(KITCHEN, extra=[1]),
        "extra",
        differs=differ(UNKNOWN_ARRAY, LEXICON),
    ),
    bad(
        "kitchen-union-member-invalid",
        rec(KITCHEN, open={"$type": f"{KITCHEN_ID}#a", "x": "1"}),
        "open.x",
    ),
    bad("kitchen-union-member-required", rec(KITCHEN, open={"$type": f"{KITCHEN_ID}#a"}), "open.x"),
    bad("kitchen-union-no-type", rec(KITCHEN, open={"x": 1}), "open.$type"),
    ok(
        "kitchen-open-union-unknown-type", rec(KITCHEN, open={"$type": "com.example.other", "z": 1})
    ),
    bad(
        "kitchen-closed-union-unknown-type",
        rec(KITCHEN, closed={"$type": "com.example.other"}),
        "closed.$type",
    ),
    ok("kitchen-closed-union-member", rec(KITCHEN, closed={"$type": f"{KITCHEN_ID}#a", "x": 2})),
    bad(
        "kitchen-blob-max-size",
        rec(KITCHEN, image=blob("image/png", 1001)),
        "image.size",
        differs=differ(NO_ACCEPT, LEXICON),
    ),
    ok("kitchen-blob-exact-mime", rec(KITCHEN, image=blob("image/jpeg", 10))),
    bad(
        "kitchen-blob-other-mime",
        rec(KITCHEN, image=blob("image/gif", 10)),
        "image.mimeType",
        differs=differ(NO_ACCEPT, LEXICON),
    ),
    bad("kitchen-array-too-short", rec(KITCHEN, tags=[]), "tags"),
    bad("kitchen-array-too-long", rec(KITCHEN, tags=["a", "b", "c", "d"]), "tags"),
    bad("kitchen-array-item", rec(KITCHEN, tags=["ok", "123456789"]), "tags[1]"),
    bad("kitchen-ref-other-doc", rec(KITCHEN, ref={"uri": TRACK_URI}), "ref.cid"),
    # --- record keys (only lex-schema checks them)
    Case("rkey-track-tid", "fm.plyr.track", True, rkey=TID),
    Case("rkey-track-self", "fm.plyr.track", False, rkey="self", path="rkey"),
    Case("rkey-track-short", "fm.plyr.track", False, rkey="3jzfcijpj2z2", path="rkey"),
    Case("rkey-profile-self", "fm.plyr.actor.profile", True, rkey="self"),
    Case("rkey-profile-other", "fm.plyr.actor.profile", False, rkey="me", path="rkey"),
    Case("rkey-status-self", "fm.teal.alpha.actor.status", True, rkey="self"),
    Case("rkey-any", KITCHEN_ID, True, rkey="some:key~1"),
    Case("rkey-any-bad", KITCHEN_ID, False, rkey="a/b", path="rkey"),
]


@pytest.fixture(scope="module")
def registry() -> LexiconRegistry:
    return LexiconRegistry([*load_lexicons().documents(), KITCHEN_DOC])


def run_case(registry: LexiconRegistry, case: Case) -> LexiconValidationError | None:
    try:
        if case.rkey is not None:
            registry.check_record_key(case.nsid, case.rkey)
        else:
            registry.validate_record(case.nsid, case.record)
    except LexiconValidationError as exc:
        return exc
    return None


def test_cases_are_many_and_unique() -> None:
    assert len(CASES) >= 40
    assert len({case.id for case in CASES}) == len(CASES)
    covered = {case.nsid for case in CASES}
    assert covered >= set(load_lexicons().collections)


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.id)
def test_case_verdict(registry: LexiconRegistry, case: Case) -> None:
    error = run_case(registry, case)
    if case.valid:
        assert error is None, f"expected valid, got: {error}"
    else:
        assert error is not None, "expected invalid, but it validated"
        assert error.path == case.path, str(error)
        assert error.collection == case.nsid


# ---------------------------------------------------------------------------------------
# the reference validators


def _reference_problem() -> str | None:
    if shutil.which("node") is None:
        return "node is not installed"
    for package in REFERENCE_PACKAGES:
        if not (NODE_MODULES / package / "package.json").exists():
            return f"{package} is not installed in {NODE_MODULES} (npm ci in atproto-net)"
    return None


def _payload(case: Case) -> dict[str, Any]:
    if case.rkey is not None:
        return {"nsid": case.nsid, "rkey": case.rkey}
    return {"nsid": case.nsid, "record": case.record}


@pytest.fixture(scope="module")
def reference(registry: LexiconRegistry) -> dict[str, Any]:
    problem = _reference_problem()
    if problem is not None:
        pytest.skip(f"reference validators unavailable: {problem}")
    payload = {"docs": registry.documents(), "cases": [_payload(case) for case in CASES]}
    completed = subprocess.run(
        ["node", str(REFERENCE_SCRIPT), str(NODE_MODULES)],
        input=json.dumps(payload),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    answer: dict[str, Any] = json.loads(completed.stdout)
    assert len(answer["results"]) == len(CASES)
    return answer


def test_reference_accepts_the_documents(reference: dict[str, Any]) -> None:
    problems = [doc for doc in reference["documents"] if doc[LEXICON] or doc[LEX_SCHEMA]]
    assert problems == []
    assert {doc["id"] for doc in reference["documents"]} >= {d["id"] for d in bundled_documents()}


def test_reference_flags_a_broken_document() -> None:
    """The document check in the reference script is not a rubber stamp."""
    problem = _reference_problem()
    if problem is not None:
        pytest.skip(f"reference validators unavailable: {problem}")
    broken = copy.deepcopy(KITCHEN_DOC)
    broken["defs"]["a"]["properties"]["x"]["type"] = "int"
    completed = subprocess.run(
        ["node", str(REFERENCE_SCRIPT), str(NODE_MODULES)],
        input=json.dumps({"docs": [broken], "cases": []}),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    [verdict] = json.loads(completed.stdout)["documents"]
    assert verdict[LEXICON]
    assert verdict[LEX_SCHEMA]


@pytest.mark.parametrize("index", range(len(CASES)), ids=[case.id for case in CASES])
def test_reference_validators_agree(reference: dict[str, Any], index: int) -> None:
    case = CASES[index]
    result = reference["results"][index]
    for validator in BOTH:
        answer = result[validator]
        if answer is None:  # @atproto/lexicon has no record key check
            assert case.rkey is not None
            assert validator == LEXICON
            continue
        expected = case.valid != (validator in case.differs)
        note = (
            f" (documented difference: {case.differs[validator]})"
            if validator in case.differs
            else ""
        )
        assert answer["valid"] == expected, (
            f"{validator} says {'valid' if answer['valid'] else 'invalid'}"
            f" ({answer['error']}); expected {'valid' if expected else 'invalid'}{note}"
        )
    if not case.valid and case.record is not None and LEX_SCHEMA not in case.differs:
        # Both found a problem: in the same place, or plyr's is inside the reference's.
        where = _lex_schema_path(result[LEX_SCHEMA]["error"])
        assert case.path is not None
        assert where is not None, result[LEX_SCHEMA]["error"]
        assert case.path == where or case.path.startswith((f"{where}.", f"{where}[")), (
            f"plyr: {case.path!r}, lex-schema: {result[LEX_SCHEMA]['error']}"
        )


def _lex_schema_path(error: str) -> str | None:
    """`features[2].did` out of lex-schema's `... at $.features[2].did`.

    lex-schema reports a missing key at its parent (`Missing required key "did" at
    $.features[0]`); plyr names the key itself, so the key is appended here.
    """
    match = re.search(r" at \$(\S*)$", error)
    if match is None:
        return None
    where = match[1].removeprefix(".")
    missing = re.match(r'Missing required key "([^"]+)"', error)
    if missing:
        where = f"{where}.{missing[1]}" if where else missing[1]
    return where


def test_documented_differences_are_few() -> None:
    differing = [case.id for case in CASES if case.differs]
    assert len(differing) <= 12, differing


# ---------------------------------------------------------------------------------------
# namespace


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


# ---------------------------------------------------------------------------------------
# plyr-side rules, paths and messages


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


# ---------------------------------------------------------------------------------------
# the documents themselves


def test_documents_ship_as_package_data() -> None:
    root = resources.files("plyr.lexicons")
    track = json.loads(root.joinpath("fm/plyr/track.json").read_text(encoding="utf-8"))
    assert track["id"] == "fm.plyr.track"
    ids = {document["id"] for document in bundled_documents()}
    assert ids == {
        "com.atproto.repo.strongRef",
        "fm.plyr.track",
        "fm.plyr.like",
        "fm.plyr.comment",
        "fm.plyr.list",
        "fm.plyr.actor.profile",
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


def test_runtime_lexicons_follow_the_namespace_setting(tmp_path: Path) -> None:
    from plyr.runtime import Runtime
    from tests.conftest import make_settings

    settings = make_settings(
        tmp_path, "sqlite+aiosqlite:///:memory:", atproto_namespace="fm.plyr.dev"
    )
    runtime = Runtime.open(settings)
    assert runtime.lexicons.collection("track") == "fm.plyr.dev.track"
    assert runtime.lexicons.collection("actor.profile") == "fm.plyr.dev.actor.profile"
