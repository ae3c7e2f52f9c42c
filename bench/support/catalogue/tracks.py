"""The tracks table: published records with audio and artwork keys, codecs, loudness."""

from __future__ import annotations

from typing import Any

from plyr.atproto.tid import tid_from_time
from plyr.db.models import PublishState, Track
from support.catalogue.names import words
from support.catalogue.records import NAMESPACE, content_hash, fake_cid
from support.catalogue.state import Catalogue, TableRows, table_of

FILE_TYPES = [("mp3", 60), ("flac", 15), ("wav", 10), ("m4a", 10), ("ogg", 5)]


def tracks(catalogue: Catalogue) -> TableRows:
    """Needs `plan.plan_tracks` and `plan.plan_albums` first."""
    rng = catalogue.rng
    plays = [0] * catalogue.sizes["tracks"]
    for track in catalogue.play_tracks:
        plays[track] += 1
    rows: list[tuple[Any, ...]] = []
    for index in range(catalogue.sizes["tracks"]):
        artist = catalogue.track_artist[index]
        did = catalogue.dids[artist]
        created = catalogue.track_created[index]
        ext = rng.choices([f for f, _ in FILE_TYPES], [w for _, w in FILE_TYPES])[0]
        digest = content_hash(catalogue.seed, "audio", index)
        original = f"audio/{digest[:2]}/{digest}.{ext}"
        stream = original if ext in ("mp3", "m4a", "ogg") else f"audio/{digest[:2]}/{digest}.mp3"
        stream_type = {"m4a": "audio/mp4", "ogg": "audio/ogg"}.get(ext, "audio/mpeg")
        has_art = rng.random() < 0.85
        art = content_hash(catalogue.seed, "art", index)
        rkey = tid_from_time(created, index % 1024)
        uri = f"at://{did}/{NAMESPACE}.track/{rkey}"
        cid = fake_cid("track", index)
        catalogue.track_uri.append(uri)
        catalogue.track_cid.append(cid)
        duration = catalogue.track_duration[index]
        loudness = round(rng.gauss(-12.0, 4.0), 2)
        state = PublishState.published if rng.random() < 0.995 else PublishState.failed
        description = (
            " ".join(catalogue.names.any_word() for _ in range(rng.randint(4, 20)))
            if rng.random() < 0.3
            else None
        )
        rows.append(
            (
                index + 1,
                did,
                catalogue.names.title(),
                catalogue.display[artist],
                catalogue.track_album[index],
                description,
                [],
                ext,
                duration,
                digest,
                original,
                stream,
                stream_type,
                f"images/{art[:2]}/{art}.jpg" if has_art else None,
                f"images/{art[:2]}/{art}.thumb.webp" if has_art else None,
                duration * rng.choice((16_000, 24_000, 40_000, 120_000)),
                {"mp3": "mp3", "flac": "flac", "wav": "pcm_s16le", "m4a": "aac"}.get(ext, "vorbis"),
                rng.choice((44_100, 44_100, 48_000)),
                2,
                loudness,
                round(min(0.0, -14.0 - loudness), 2),
                rkey,
                uri if state == PublishState.published else None,
                cid if state == PublishState.published else None,
                state.value,
                None if state == PublishState.published else "the pds refused the record",
                plays[index],
                created,
                created,
            )
        )
    columns = words(
        "id artist_did title artist_name album description features file_type "
        "duration_seconds content_hash original_key stream_key stream_content_type image_key "
        "thumbnail_key size_bytes codec sample_rate channels loudness_lufs gain_db rkey "
        "atproto_uri atproto_cid publish_state publish_error play_count created_at updated_at"
    )
    return TableRows(table_of(Track), columns, rows, len(rows))
