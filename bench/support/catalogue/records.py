"""Made-up but well-formed record identifiers: the NSID namespace, CIDs, content hashes."""

from __future__ import annotations

import hashlib
from base64 import b32encode

NAMESPACE = "fm.plyr"


def fake_cid(*parts: object) -> str:
    digest = hashlib.sha256("|".join(map(str, parts)).encode()).digest()
    return "bafyrei" + b32encode(digest).decode().lower().rstrip("=")[:52]


def content_hash(*parts: object) -> str:
    return hashlib.sha256("|".join(map(str, parts)).encode()).hexdigest()
