"""Checks before measuring: every target answers ranges and whole files byte-exactly, and
docs/nginx.conf serves public media itself, offloads the rest with X-Accel-Redirect the
way a browser needs, and leaves private media to plyr's check."""

from __future__ import annotations

import hashlib
import time
from pathlib import Path

from support.loopback import get
from support.stream.catalogue import Catalogue
from support.stream.files import Files


def paths(route: str, files: Files, catalogue: Catalogue) -> list[str]:
    if route == "audio":
        return [f"/audio/{track_id}" for track_id in catalogue.track_ids]
    return [f"/media/{key}" for key in files.keys]


def check_target(
    name: str, base: str, route: str, files: Files, catalogue: Catalogue, media: Path
) -> None:
    """Each target must answer ranges byte-exactly before its speed means anything."""
    path = paths(route, files, catalogue)[1]
    data = (media / files.keys[1]).read_bytes()
    status, _, body = get(base + path, {"Range": "bytes=1000-1999"})
    if status != 206 or body != data[1000:2000]:
        raise SystemExit(f"{name} {path}: a range came back wrong (status {status})")
    status, _, body = get(base + path)
    if status != 200 or hashlib.sha256(body).digest() != hashlib.sha256(data).digest():
        raise SystemExit(f"{name} {path}: the whole file came back wrong (status {status})")


def media_requests(plyr: str) -> float:
    """How many `/media/{key}` requests plyr has answered (its /metrics, from loopback);
    a request is counted just after its answer is sent, hence the pause."""
    time.sleep(0.3)
    _, _, body = get(plyr + "/metrics")
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in body.decode().splitlines()
        if line.startswith("plyr_http_requests_total{") and 'route="/media/{key}"' in line
    )


def check_offload(
    proxy: str, plyr: str, files: Files, catalogue: Catalogue, media: Path
) -> list[str]:
    """What a browser sees through docs/nginx.conf: public media from nginx alone (plyr's
    request count does not move), /audio and private media through plyr."""
    key = files.keys[0]
    data = (media / key).read_bytes()
    notes: list[str] = []
    before = media_requests(plyr)
    status, headers, body = get(proxy + "/media/" + key, {"Range": "bytes=0-"})
    lower = {k.lower(): v for k, v in headers.items()}
    direct = media_requests(plyr) == before
    ok = status == 206 and body == data and direct
    notes.append(
        f"public /media/<key>, Range bytes=0- → {status}, {len(body)} bytes "
        f"{'exact' if body == data else 'WRONG'}, "
        + ("served by nginx alone" if direct else "WENT THROUGH PLYR")
    )
    notes.append(
        f"Content-Type {lower.get('content-type')}, Cache-Control {lower.get('cache-control')}, "
        f"ETag {lower.get('etag')} (nginx's own), Accept-Ranges {lower.get('accept-ranges')}"
    )
    status304, _, _ = get(proxy + "/media/" + key, {"If-None-Match": lower.get("etag", "")})
    status_if_range, _, body_if_range = get(
        proxy + "/media/" + key, {"Range": "bytes=0-9", "If-Range": '"stale"'}
    )
    audio, audio_headers, audio_body = get(
        proxy + f"/audio/{catalogue.track_ids[0]}", {"Range": "bytes=0-9"}
    )
    audio_lower = {k.lower(): v for k, v in audio_headers.items()}
    if "x-accel-redirect" in audio_lower:
        notes.append("X-ACCEL-REDIRECT LEAKED TO THE CLIENT")
        ok = False
    asked = media_requests(plyr)
    private, _, _ = get(proxy + "/media/" + catalogue.private_key, {"Range": "bytes=0-9"})
    plyr_checked = media_requests(plyr) > asked
    private_audio, _, _ = get(proxy + f"/audio/{catalogue.private_id}")
    internal, _, _ = get(proxy + "/_protected_media/" + key)
    missing, _, _ = get(proxy + "/media/audio/00/missing.mp3")
    notes.append(
        f"If-None-Match → {status304}; stale If-Range → {status_if_range} "
        f"({len(body_if_range)} bytes); /audio/<id> → {audio} through plyr "
        f"(X-Accel-Redirect, {len(audio_body)} bytes)"
    )
    notes.append(
        f"taken-down track: /media/<key> → {private}"
        + (" (plyr checked)" if plyr_checked else " (NOT ASKED OF PLYR)")
        + f", /audio/<id> → {private_audio}; /_protected_media/ directly → {internal}; "
        f"missing key → {missing}"
    )
    ok = (
        ok
        and status304 == 304
        and status_if_range == 200
        and audio == 206
        and audio_body == data[:10]
        and plyr_checked
        and private == 451
        and private_audio == 451
        and internal == 404
        and missing == 404
    )
    notes.append("offload through docs/nginx.conf: " + ("OK" if ok else "PROBLEM"))
    if not ok:
        raise SystemExit("\n".join(notes))
    return notes
