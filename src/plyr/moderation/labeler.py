"""plyr's labeler identity: its signing key, its DID, the service record it declares, and a
check that the DID document names that key and plyr's endpoint.

The key is `#atproto_label` in the labeler's DID document: a secp256k1 key from
`PLYR_LABELER_KEY` (hex), or generated once into `<data>/labeler.key` (0600). The DID is
`PLYR_LABELER_DID`; on the development network `serve --devnet` makes one itself
(`plyr.moderation.devnet_labeler`) and keeps it in `<data>/labeler-devnet.json`, which this
module also reads (development network only) so the CLI and workers sign as the same labeler.
For production, `plyr labeler plc-op` prints or submits the PLC operation that adds the key
and the endpoint to an existing did:plc (`plyr.atproto.plc`).
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import libipld
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from plyr.atproto.signatures import (
    Curve,
    InvalidKey,
    PublicKey,
    SigningKey,
    parse_public_key_multibase,
)
from plyr.config import Settings

LABELER_KEY_FILE = "labeler.key"
DEVNET_STATE_FILE = "labeler-devnet.json"
SERVICE_COLLECTION = "app.bsky.labeler.service"
SERVICE_RKEY = "self"
LABEL_METHOD = "atproto_label"  # the verification method's id fragment
LABELER_SERVICE = "atproto_labeler"  # the service's id fragment
LABELER_SERVICE_TYPE = "AtprotoLabeler"

# (identifier, severity, blurs, defaultSetting, name, description): what each value means.
LABEL_VALUE_DEFINITIONS: tuple[tuple[str, str, str, str, str, str], ...] = (
    (
        "copyright-violation",
        "alert",
        "content",
        "warn",
        "copyright violation",
        "an operator found that this track uses someone else's work without permission.",
    ),
    (
        "takedown",
        "alert",
        "content",
        "hide",
        "taken down",
        "this track was taken down by plyr's operators and is no longer served.",
    ),
    (
        "sensitive-artwork",
        "inform",
        "media",
        "warn",
        "sensitive artwork",
        "the artwork of this track was flagged as sensitive; it is blurred by default.",
    ),
)


class LabelerError(RuntimeError):
    """The labeler's key or identity cannot be used (a one-line reason)."""


_keys: dict[tuple[str, str], SigningKey] = {}


def _key_from_hex(value: str, where: str) -> SigningKey:
    try:
        return SigningKey.from_private_bytes("secp256k1", bytes.fromhex(value.strip()))
    except (ValueError, InvalidKey) as exc:
        raise LabelerError(f"{where} is not a hex secp256k1 private key") from exc


def signing_key(settings: Settings) -> SigningKey:
    """The labeler's signing key: from settings, or `<data>/labeler.key` (made once)."""
    if settings.labeler_key is not None:
        raw = settings.labeler_key.get_secret_value()
        cache = ("setting", raw)
        if cache not in _keys:
            _keys[cache] = _key_from_hex(raw, "PLYR_LABELER_KEY")
        return _keys[cache]
    path = settings.data_dir / LABELER_KEY_FILE
    cache = ("file", str(path.resolve()))
    if cache in _keys:
        return _keys[cache]
    if not path.exists():
        settings.ensure_data_dir()
        _create_key_file(path)
    key = _key_from_hex(path.read_text(), str(path))
    _keys[cache] = key
    return key


def _create_key_file(path: Path) -> None:
    """Write a new key to a private temporary file, then link it into place: the link fails
    if another process got there first (its key wins), and no reader ever sees the file
    before it holds the whole key."""
    fresh = SigningKey.generate("secp256k1")
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with open(fd, "w") as handle:
            handle.write(fresh.private_bytes().hex() + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        with contextlib.suppress(FileExistsError):
            os.link(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


@dataclass(frozen=True, slots=True)
class DevnetState:
    """What `serve --devnet` made for the labeler on the local network."""

    did: str
    handle: str
    password: str
    rotation_key_hex: str  # secp256k1: plyr signs the DID's PLC operations with it
    pds_url: str
    plc_url: str

    def rotation_key(self) -> SigningKey:
        return _key_from_hex(self.rotation_key_hex, DEVNET_STATE_FILE)


def devnet_state_path(settings: Settings) -> Path:
    return settings.data_dir / DEVNET_STATE_FILE


def read_devnet_state(settings: Settings) -> DevnetState | None:
    path = devnet_state_path(settings)
    try:
        data = json.loads(path.read_text())
        return DevnetState(**{name: str(data[name]) for name in DevnetState.__slots__})
    except (OSError, ValueError, KeyError, TypeError):
        return None


def write_devnet_state(settings: Settings, state: DevnetState) -> None:
    """Written 0600 (it holds a password and a rotation key), replaced atomically."""
    settings.ensure_data_dir()
    path = devnet_state_path(settings)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)  # a .tmp left behind keeps its mode; O_CREAT's applies to new files
    with open(fd, "w") as handle:
        json.dump({name: getattr(state, name) for name in DevnetState.__slots__}, handle)
    tmp.replace(path)


def labeler_did(settings: Settings) -> str | None:
    """The DID labels are issued as: `PLYR_LABELER_DID`, else (development network only)
    the one `serve --devnet` made."""
    if settings.labeler_did:
        return settings.labeler_did
    if settings.atproto_dev_network:
        state = read_devnet_state(settings)
        if state is not None:
            return state.did
    return None


def now_datetime() -> str:
    """UTC now as atproto writes it: milliseconds and `Z`."""
    now = datetime.now(UTC)
    return now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z"


def service_record(created_at: str | None = None) -> dict[str, Any]:
    """The `app.bsky.labeler.service` record (rkey `self`) declaring plyr's label values."""
    definitions = [
        {
            "identifier": identifier,
            "severity": severity,
            "blurs": blurs,
            "defaultSetting": default,
            "adultOnly": False,
            "locales": [{"lang": "en", "name": name, "description": description}],
        }
        for identifier, severity, blurs, default, name, description in LABEL_VALUE_DEFINITIONS
    ]
    return {
        "$type": SERVICE_COLLECTION,
        "policies": {
            "labelValues": [definition[0] for definition in LABEL_VALUE_DEFINITIONS],
            "labelValueDefinitions": definitions,
        },
        # Records (takedowns, artwork) and accounts (a hidden account's DID).
        "subjectTypes": ["record", "account"],
        "createdAt": created_at or now_datetime(),
    }


def same_service_record(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """Equal apart from `createdAt` (a restart need not rewrite the record)."""

    def strip(value: dict[str, Any]) -> dict[str, Any]:
        return {key: item for key, item in value.items() if key != "createdAt"}

    return strip(a) == strip(b)


def method_key(method: dict[str, Any]) -> PublicKey:
    """The key of a verification method. Besides `Multikey`, the legacy suites (which some
    PLC directories still write) may carry the uncompressed point: it is compressed here."""
    multibase = str(method.get("publicKeyMultibase"))
    suite = str(method.get("type"))
    try:
        return parse_public_key_multibase(multibase, suite)
    except InvalidKey:
        curves: dict[str, tuple[Curve, ec.EllipticCurve]] = {
            "EcdsaSecp256k1VerificationKey2019": ("secp256k1", ec.SECP256K1()),
            "EcdsaSecp256r1VerificationKey2019": ("p256", ec.SECP256R1()),
        }
        if suite not in curves or not multibase.startswith("z"):
            raise
        name, curve = curves[suite]
        try:
            point = ec.EllipticCurvePublicKey.from_encoded_point(
                curve, libipld.decode_multibase(multibase)[1]
            )
        except ValueError as exc:
            raise InvalidKey("not a point on the curve") from exc
        compressed = point.public_bytes(Encoding.X962, PublicFormat.CompressedPoint)
        return PublicKey(name, compressed)


def document_problems(document: dict[str, Any], key: SigningKey, endpoint: str) -> list[str]:
    """What a DID document lacks to be this labeler's (empty: it names the key and endpoint)."""
    did = str(document.get("id") or "")
    problems: list[str] = []
    methods = [
        method
        for method in document.get("verificationMethod") or []
        if isinstance(method, dict)
        and str(method.get("id")) in {f"#{LABEL_METHOD}", f"{did}#{LABEL_METHOD}"}
    ]
    if not methods:
        problems.append(f"no #{LABEL_METHOD} verification method")
    else:
        try:
            named = method_key(methods[0])
        except InvalidKey as exc:
            named = None
            problems.append(f"#{LABEL_METHOD} is not a usable key: {exc}")
        if named is not None and named != key.public_key:
            problems.append(f"#{LABEL_METHOD} is another key than {key.did_key()}")
    services = [
        service
        for service in document.get("service") or []
        if isinstance(service, dict)
        and str(service.get("id")) in {f"#{LABELER_SERVICE}", f"{did}#{LABELER_SERVICE}"}
    ]
    if not services:
        problems.append(f"no #{LABELER_SERVICE} service")
    elif str(services[0].get("serviceEndpoint")).rstrip("/") != endpoint.rstrip("/"):
        problems.append(f"#{LABELER_SERVICE} points at {services[0].get('serviceEndpoint')}")
    return problems


def new_password() -> str:
    return secrets.token_urlsafe(24)
