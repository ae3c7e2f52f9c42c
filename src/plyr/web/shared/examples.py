"""Examples for the OpenAPI: one realistic sample of each shape the API sends or takes, so
/api/docs and the SDKs show what a real answer looks like. Nested shapes reuse the same
samples (a TrackPage holds the TrackOut example), so the documents agree with each other.
`tests/app/test_openapi_complete.py` validates each example against its own schema.

A model carries its example with `model_config = with_examples(SAMPLE)`.
"""

from __future__ import annotations

from typing import Any

from pydantic import ConfigDict

SITE = "https://plyr.example"
ALICE = "did:plc:ragtjsm2j2vknwkz3zp4oxrd"
BOB = "did:plc:6lsopcwpqhqihl2kbkcmrb4f"
TRACK_URI = f"at://{ALICE}/fm.plyr.track/3lbx2k4tq7c2a"
CID = "bafyreib2rxk3rybk3aobmv5cjuql3bm2twh4jo5uxgf5xvedvbmw5rlgp4"
AVATAR_CID = "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku"
WHEN = "2025-05-14T07:31:12.482913+00:00"
LATER = "2025-05-14T08:02:40.117204+00:00"


def with_examples(*examples: dict[str, Any]) -> ConfigDict:
    """A model config whose JSON schema carries these examples."""
    return ConfigDict(json_schema_extra={"examples": list(examples)})


PERSON: dict[str, Any] = {
    "did": ALICE,
    "handle": "alice.example.com",
    "display_name": "alice",
    "avatar_url": f"https://cdn.bsky.app/img/avatar/plain/{ALICE}/{AVATAR_CID}@jpeg",
}

LYRICS: dict[str, Any] = {
    "plain": "the tide comes in\nand goes out",
    "synced": "[00:12.50]the tide comes in\n[00:17.00]and goes out",
    "lang": "en",
}

TRACK: dict[str, Any] = {
    "id": 42,
    "title": "harbour lights",
    "artist": "alice",
    "artist_did": ALICE,
    "album": "tide tables",
    "description": "recorded at the pier at dawn",
    "tags": ["ambient", "field recording"],
    "features": [{"did": BOB, "handle": "bob.example.com"}],
    "duration": 187,
    "file_type": "flac",
    "audio_url": f"{SITE}/audio/42",
    "download_url": f"{SITE}/audio/42/download",
    "image_url": f"{SITE}/images/42",
    "thumbnail_url": f"{SITE}/images/42/thumb",
    "gain_db": -3.2,
    "play_count": 128,
    "publish_state": "published",
    "publish_error": None,
    "uri": TRACK_URI,
    "cid": CID,
    "created_at": WHEN,
    "taken_down": False,
    "takedown_reason": None,
    "self_labels": [],
    "lyrics": LYRICS,
}

TRACK_SUMMARY: dict[str, Any] = {
    key: TRACK[key]
    for key in (
        "id",
        "title",
        "artist",
        "artist_did",
        "duration",
        "audio_url",
        "thumbnail_url",
        "uri",
        "cid",
    )
}

ERROR: dict[str, Any] = {
    "error": {
        "code": "not_found",
        "message": "there is no such track",
        "request_id": "5f0c6a1e9b2d4c7f8a3e1b0d2c4f6a8e",
    }
}

INVALID: dict[str, Any] = {
    "error": {
        "code": "invalid_input",
        "message": "the request is not valid",
        "request_id": "0b7e3c9d1f2a4e6b8c0d2f4a6b8c0e1f",
        "details": [
            {"field": "query.limit", "reason": "Input should be less than or equal to 100"}
        ],
    }
}

LIST: dict[str, Any] = {
    "id": 7,
    "did": ALICE,
    "type": "playlist",
    "name": "late night",
    "item_count": 1,
    "image_url": None,
    "thumbnail_url": None,
    "created_at": WHEN,
    "updated_at": LATER,
    "record_state": "published",
    "record_error": None,
    "uri": f"at://{ALICE}/fm.plyr.list/3lbx2m7zq4k2s",
}

ENTRY: dict[str, Any] = {
    "item_id": 15,
    "position": 0,
    "subject_uri": TRACK_URI,
    "track": TRACK_SUMMARY,
}

# A flag on the artist's own track, as they see it (GET /api/me/flags).
ARTIST_TRACK: dict[str, Any] = {
    "id": 42,
    "title": "harbour lights",
    "duration_seconds": 187,
    "taken_down": False,
    "takedown_reason": None,
}

ARTIST_FLAG: dict[str, Any] = {
    "id": 9,
    "status": "open",
    "score": 83,
    "ranges": [{"start": 12.5, "end": 41.0, "matched_start": 0.0, "matched_end": 28.5}],
    "track": ARTIST_TRACK,
    "matched_title": "harbour song",
    "matched_artist": "the lighthouse band",
    "matched_rights_holder": "lighthouse records",
    "appeal_text": None,
    "appealed_at": None,
    "created_at": "2025-05-14T07:40:02.118000Z",
}
