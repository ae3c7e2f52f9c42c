"""The lexicon test cases: records, each with plyr's verdict, and where a reference differs.

`CASES` run through plyr's validator and, in tests/test_lexicon_cases.py, through the
atproto project's own validators (tests/support/lexicon_reference.mjs): the older
`@atproto/lexicon` and the `@atproto/lex-document` / `@atproto/lex-schema` stack a PDS
now validates with. Every case states plyr's verdict; a reference must give the same
one unless the case names it in `differs`, with the reason; there the reference must
give the opposite verdict, so a change on either side shows up.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tests.support.lexicon_records import (
    AUDIO_CID,
    COMMENT,
    DID,
    DROP,
    E_ACUTE,
    FAMILY,
    FLAG,
    KITCHEN,
    KITCHEN_ID,
    LIKE,
    LIST,
    NOW,
    PLAY,
    PROFILE,
    RECORD_CID,
    STATUS,
    STRONG_REF,
    THUMB,
    TID,
    TRACK,
    TRACK_FULL,
    TRACK_URI,
    blob,
    rec,
)

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

# A shared track's post: text with a link (its facet counts UTF-8 bytes) and a link card.
EXTERNAL = "app.bsky.embed.external"
TRACK_PAGE = "https://plyr.example/tracks/7"
CARD = {"uri": TRACK_PAGE, "title": f"caf{E_ACUTE} — alice", "description": "listen on plyr"}
POST_TEXT = f"caf{E_ACUTE} {TRACK_PAGE}"
POST = {
    "$type": "app.bsky.feed.post",
    "text": POST_TEXT,
    "facets": [
        {
            "index": {"byteStart": 7, "byteEnd": 7 + len(TRACK_PAGE)},
            "features": [{"$type": "app.bsky.richtext.facet#link", "uri": TRACK_PAGE}],
        }
    ],
    "embed": {"$type": EXTERNAL, "external": {**CARD, "thumb": blob("image/webp", 20_000)}},
    "createdAt": NOW,
}

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
    ok("track-image-blob", rec(TRACK, imageBlob=blob("image/jpeg"))),
    bad(
        "track-image-blob-audio",
        rec(TRACK, imageBlob=blob("audio/mpeg")),
        "imageBlob.mimeType",
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
    # --- a Bluesky post as sharing a track writes it (plyr.social.bluesky)
    ok("post-share", POST),
    ok("post-no-embed", rec(POST, embed=DROP, facets=DROP)),
    bad("post-text-graphemes", rec(POST, text=FLAG * 301), "text"),
    bad("post-no-created-at", rec(POST, createdAt=DROP), "createdAt"),
    bad("post-facet-index", rec(POST, facets=[{"features": []}]), "facets[0].index"),
    bad(
        "post-card-title",
        rec(POST, embed={"$type": EXTERNAL, "external": {"uri": TRACK_PAGE, "description": ""}}),
        "embed.external.title",
    ),
    bad(
        "post-thumb-audio",
        rec(POST, embed={"$type": EXTERNAL, "external": {**CARD, "thumb": blob("audio/mpeg")}}),
        "embed.external.thumb.mimeType",
        differs=differ(NO_ACCEPT, LEXICON),
    ),
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
