"""Records and documents the lexicon tests share: a valid record of every collection,
the test-only kitchen-sink document that uses every type, and helpers to vary them.
"""

from __future__ import annotations

import copy
from typing import Any

from plyr.atproto.dagcbor import cid_for_bytes

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
