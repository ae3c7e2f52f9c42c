"""Encryption at rest for OAuth tokens and DPoP keys (Fernet: AES-128-CBC + HMAC-SHA256).

The key is derived from the settings' secret key with HKDF, so rotating PLYR_SECRET_KEY
makes old sessions unreadable (everyone signs in again) rather than silently wrong.
"""

from __future__ import annotations

import base64
import json
from functools import lru_cache
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF


class SecretsUnreadable(Exception):
    """Encrypted data that the current key cannot open (key rotated, or tampered with)."""


@lru_cache(maxsize=8)
def _fernet(secret_key: bytes) -> Fernet:
    derived = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=b"plyr", info=b"plyr session secrets v1"
    ).derive(secret_key)
    return Fernet(base64.urlsafe_b64encode(derived))


def seal(secret_key: bytes, value: dict[str, Any]) -> bytes:
    return _fernet(secret_key).encrypt(json.dumps(value, separators=(",", ":")).encode())


def open_sealed(secret_key: bytes, token: bytes) -> dict[str, Any]:
    try:
        data = json.loads(_fernet(secret_key).decrypt(token))
    except (InvalidToken, ValueError) as exc:
        raise SecretsUnreadable("stored secrets cannot be decrypted with this key") from exc
    if not isinstance(data, dict):
        raise SecretsUnreadable("stored secrets are not an object")
    return data
