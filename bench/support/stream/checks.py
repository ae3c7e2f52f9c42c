"""Checks before measuring: every target answers ranges and whole files byte-exactly, and
docs/nginx.conf offloads with X-Accel-Redirect the way a browser needs."""

from __future__ import annotations

import hashlib
from pathlib import Path

from support.loopback import get
from support.stream.files import Files


def check_target(name: str, base: str, prefix: str, files: Files, media: Path) -> None:
    """Each target must answer ranges byte-exactly before its speed means anything."""
    key = files.keys[1]
    data = (media / key).read_bytes()
    status, _, body = get(base + prefix + key, {"Range": "bytes=1000-1999"})
    if status != 206 or body != data[1000:2000]:
        raise SystemExit(f"{name}: a range came back wrong (status {status})")
    status, _, body = get(base + prefix + key)
    if status != 200 or hashlib.sha256(body).digest() != hashlib.sha256(data).digest():
        raise SystemExit(f"{name}: the whole file came back wrong (status {status})")


def check_offload(proxy: str, files: Files, media: Path) -> list[str]:
    """What a browser sees through docs/nginx.conf with X-Accel-Redirect."""
    key = files.keys[0]
    data = (media / key).read_bytes()
    notes: list[str] = []
    status, headers, body = get(proxy + "/media/" + key, {"Range": "bytes=0-"})
    lower = {k.lower(): v for k, v in headers.items()}
    ok = status == 206 and body == data
    notes.append(f"Range bytes=0- → {status}, {len(body)} bytes {'exact' if ok else 'WRONG'}")
    notes.append(
        f"Content-Type {lower.get('content-type')}, Cache-Control {lower.get('cache-control')}"
    )
    notes.append(
        f"ETag {lower.get('etag')} (nginx's own), Accept-Ranges {lower.get('accept-ranges')}"
    )
    if "x-accel-redirect" in lower:
        notes.append("X-ACCEL-REDIRECT LEAKED TO THE CLIENT")
        ok = False
    status304, _, _ = get(proxy + "/media/" + key, {"If-None-Match": lower.get("etag", "")})
    status_if_range, _, body_if_range = get(
        proxy + "/media/" + key, {"Range": "bytes=0-9", "If-Range": '"stale"'}
    )
    internal, _, _ = get(proxy + "/_protected_media/" + key)
    missing, _, _ = get(proxy + "/media/audio/00/missing.mp3")
    notes.append(
        f"If-None-Match → {status304}; stale If-Range → {status_if_range} "
        f"({len(body_if_range)} bytes); /_protected_media/ directly → {internal}; "
        f"missing key → {missing}"
    )
    ok = ok and status304 == 304 and status_if_range == 200 and internal == 404 and missing == 404
    notes.append("offload through docs/nginx.conf: " + ("OK" if ok else "PROBLEM"))
    if not ok:
        raise SystemExit("\n".join(notes))
    return notes
