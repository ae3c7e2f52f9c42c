"""Strict syntax of the AT Protocol's identifiers and string formats.

Every format has `is_valid_<kind>(value) -> bool` and `ensure_<kind>(value) -> str`;
`ensure_*` raises `InvalidSyntax` naming what is wrong. Validators accept any object so
they can check values straight out of decoded JSON (a non-string is simply invalid).

The rules follow the atproto specifications (atproto.com/specs) and are checked against
the protocol's interop test files (tests/fixtures/interop/syntax). Where a format has a
"strict" and a "loose" reading, the one here is the strict one plyr writes and accepts:
AT-URIs have no query or fragment, datetimes need a timezone, handles are ASCII.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

__all__ = [
    "DISALLOWED_TLDS",
    "INVALID_HANDLE",
    "TID_ALPHABET",
    "AtUri",
    "Did",
    "InvalidSyntax",
    "Nsid",
    "did_web_host",
    "ensure_at_identifier",
    "ensure_at_uri",
    "ensure_cid",
    "ensure_datetime",
    "ensure_did",
    "ensure_did_plc",
    "ensure_did_web",
    "ensure_handle",
    "ensure_language",
    "ensure_nsid",
    "ensure_record_key",
    "ensure_tid",
    "ensure_uri",
    "format_datetime",
    "is_disallowed_tld",
    "is_valid_at_identifier",
    "is_valid_at_uri",
    "is_valid_cid",
    "is_valid_datetime",
    "is_valid_did",
    "is_valid_did_plc",
    "is_valid_did_web",
    "is_valid_handle",
    "is_valid_language",
    "is_valid_nsid",
    "is_valid_record_key",
    "is_valid_tid",
    "is_valid_uri",
    "parse_at_uri",
    "parse_datetime",
    "parse_did",
    "parse_nsid",
]

_PREVIEW_CHARS = 80


class InvalidSyntax(ValueError):
    """A string is not a valid `kind` (handle, did, nsid, ...); `reason` says why."""

    def __init__(self, kind: str, value: object, reason: str) -> None:
        self.kind = kind
        self.value = value
        self.reason = reason
        shown = repr(value)
        if len(shown) > _PREVIEW_CHARS:
            shown = shown[: _PREVIEW_CHARS - 3] + "..."
        super().__init__(f"invalid {kind} {shown}: {reason}")


def _not_a_string(value: object) -> str:
    return f"expected a string, got {type(value).__name__}"


# ---------------------------------------------------------------------------------------
# handle

INVALID_HANDLE = "handle.invalid"
"""The placeholder the network shows for an account whose handle does not verify."""

DISALLOWED_TLDS = frozenset(
    {"alt", "arpa", "example", "internal", "invalid", "local", "localhost", "onion"}
)
"""Reserved top-level domains: syntactically valid handles, never resolved or accepted.

`.test` is deliberately absent: the development network registers `*.test` handles.
"""

_HANDLE_MAX = 253
_LABEL_RE = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?")


def _handle_problem(value: object) -> str | None:
    if not isinstance(value, str):
        return _not_a_string(value)
    if not value:
        return "empty"
    if len(value) > _HANDLE_MAX:
        return f"longer than {_HANDLE_MAX} characters"
    if not value.isascii():
        return "only ASCII is allowed (use the punycode xn-- form for other scripts)"
    labels = value.split(".")
    if len(labels) < 2:
        return "needs at least two labels; a bare top-level domain is not a handle"
    for label in labels:
        if not label:
            return "empty label (leading, trailing or doubled period)"
        if len(label) > 63:
            return f"label {label[:20]!r}... is longer than 63 characters"
        if not _LABEL_RE.fullmatch(label):
            return (
                f"label {label!r} may only hold letters, digits and inner hyphens "
                "and must not start or end with a hyphen"
            )
    if not labels[-1][0].isalpha():
        return "the top-level domain must start with a letter"
    return None


def is_valid_handle(value: object) -> bool:
    return _handle_problem(value) is None


def ensure_handle(value: object) -> str:
    """The handle, normalised to lowercase (handles compare case-insensitively)."""
    problem = _handle_problem(value)
    if problem is not None:
        raise InvalidSyntax("handle", value, problem)
    assert isinstance(value, str)
    return value.lower()


def is_disallowed_tld(handle: str) -> bool:
    """True when the handle ends in a reserved TLD that must never be resolved or accepted.

    Such handles pass `is_valid_handle` (they are well-formed) but name hosts that are
    local, special-use or fictional; resolving them would reach into private networks.
    """
    return handle.rstrip(".").rsplit(".", 1)[-1].lower() in DISALLOWED_TLDS


# ---------------------------------------------------------------------------------------
# DID

_DID_MAX = 2048
_DID_RE = re.compile(r"did:([a-z]+):([A-Za-z0-9._:%-]*[A-Za-z0-9._-])")
_DID_PLC_RE = re.compile(r"did:plc:[a-z2-7]{24}")


@dataclass(frozen=True, slots=True)
class Did:
    """A parsed DID: `did:<method>:<identifier>`."""

    method: str
    identifier: str

    def __str__(self) -> str:
        return f"did:{self.method}:{self.identifier}"


def _did_problem(value: object) -> str | None:
    if not isinstance(value, str):
        return _not_a_string(value)
    if len(value) > _DID_MAX:
        return f"longer than {_DID_MAX} characters"
    if not value.startswith("did:"):
        return "must start with lowercase 'did:'"
    if not value.isascii():
        return "only ASCII is allowed"
    parts = value.split(":", 2)
    if len(parts) < 3 or not parts[1]:
        return "expected did:<method>:<identifier>"
    if not re.fullmatch(r"[a-z]+", parts[1]):
        return "the method must be lowercase letters only"
    if not parts[2]:
        return "the identifier is empty"
    if not _DID_RE.fullmatch(value):
        if value.endswith((":", "%")):
            return "must not end with ':' or '%'"
        return "the identifier may only hold letters, digits and . _ : % -"
    return None


def is_valid_did(value: object) -> bool:
    return _did_problem(value) is None


def ensure_did(value: object) -> str:
    problem = _did_problem(value)
    if problem is not None:
        raise InvalidSyntax("did", value, problem)
    assert isinstance(value, str)
    return value


def parse_did(value: object) -> Did:
    did = ensure_did(value)
    _, method, identifier = did.split(":", 2)
    return Did(method, identifier)


def _did_plc_problem(value: object) -> str | None:
    problem = _did_problem(value)
    if problem is not None:
        return problem
    assert isinstance(value, str)
    if not value.startswith("did:plc:"):
        return "not a did:plc"
    if not _DID_PLC_RE.fullmatch(value):
        return "a did:plc identifier is 24 characters of lowercase base32 (a-z, 2-7)"
    return None


def is_valid_did_plc(value: object) -> bool:
    return _did_plc_problem(value) is None


def ensure_did_plc(value: object) -> str:
    problem = _did_plc_problem(value)
    if problem is not None:
        raise InvalidSyntax("did:plc", value, problem)
    assert isinstance(value, str)
    return value


def _did_web_parts(value: object) -> tuple[str | None, str]:
    """(problem, host[:port]) of a did:web as atproto allows it: a hostname, no path."""
    problem = _did_problem(value)
    if problem is not None:
        return problem, ""
    assert isinstance(value, str)
    if not value.startswith("did:web:"):
        return "not a did:web", ""
    identifier = value[len("did:web:") :]
    if ":" in identifier:
        return "atproto allows no path in a did:web (only a hostname)", ""
    host, sep, port = identifier.partition("%3A")
    if "%" in host or "%" in port:
        return "only a percent-encoded port separator (%3A) is allowed", ""
    if sep:
        if host.lower() != "localhost":
            return "a port is only allowed on localhost (for development)", ""
        if not port.isdigit() or not 0 < int(port) < 65536:
            return f"bad port {port!r}", ""
        return None, f"{host.lower()}:{port}"
    if host.lower() != "localhost":
        host_problem = _handle_problem(host)
        if host_problem is not None:
            return f"bad hostname: {host_problem}", ""
    return None, host.lower()


def is_valid_did_web(value: object) -> bool:
    return _did_web_parts(value)[0] is None


def ensure_did_web(value: object) -> str:
    problem, _ = _did_web_parts(value)
    if problem is not None:
        raise InvalidSyntax("did:web", value, problem)
    assert isinstance(value, str)
    return value


def did_web_host(value: object) -> str:
    """The host (with `:port` for localhost) whose /.well-known/did.json holds the document."""
    problem, host = _did_web_parts(value)
    if problem is not None:
        raise InvalidSyntax("did:web", value, problem)
    return host


# ---------------------------------------------------------------------------------------
# NSID

_NSID_MAX = 317
_NSID_NAME_RE = re.compile(r"[A-Za-z][A-Za-z0-9]{0,62}")


@dataclass(frozen=True, slots=True)
class Nsid:
    """A parsed NSID: reversed-domain `authority` plus camelCase `name`."""

    authority: str
    name: str

    def __str__(self) -> str:
        return f"{self.authority}.{self.name}"

    @property
    def domain(self) -> str:
        """The authority as a (lowercase) domain name: `fm.plyr` -> `plyr.fm`."""
        return ".".join(reversed(self.authority.lower().split(".")))


def _nsid_problem(value: object) -> str | None:
    if not isinstance(value, str):
        return _not_a_string(value)
    if len(value) > _NSID_MAX:
        return f"longer than {_NSID_MAX} characters"
    if not value.isascii():
        return "only ASCII is allowed"
    segments = value.split(".")
    if len(segments) < 3:
        return "needs at least three segments (reversed domain plus a name)"
    *authority, name = segments
    for segment in authority:
        if not segment:
            return "empty segment (leading, trailing or doubled period)"
        if len(segment) > 63:
            return f"segment {segment[:20]!r}... is longer than 63 characters"
        if not _LABEL_RE.fullmatch(segment):
            return f"authority segment {segment!r} may only hold letters, digits and inner hyphens"
    if not authority[0][0].isalpha():
        return "the first segment (a top-level domain) must start with a letter"
    if not name:
        return "the name is empty"
    if len(name) > 63:
        return "the name is longer than 63 characters"
    if not _NSID_NAME_RE.fullmatch(name):
        return f"the name {name!r} must be letters and digits, starting with a letter"
    return None


def is_valid_nsid(value: object) -> bool:
    return _nsid_problem(value) is None


def ensure_nsid(value: object) -> str:
    problem = _nsid_problem(value)
    if problem is not None:
        raise InvalidSyntax("nsid", value, problem)
    assert isinstance(value, str)
    return value


def parse_nsid(value: object) -> Nsid:
    authority, _, name = ensure_nsid(value).rpartition(".")
    return Nsid(authority, name)


# ---------------------------------------------------------------------------------------
# record key and TID

_RECORD_KEY_RE = re.compile(r"[A-Za-z0-9._:~-]{1,512}")


def _record_key_problem(value: object) -> str | None:
    if not isinstance(value, str):
        return _not_a_string(value)
    if not value:
        return "empty"
    if len(value) > 512:
        return "longer than 512 characters"
    if value in (".", ".."):
        return "'.' and '..' are not record keys"
    if not _RECORD_KEY_RE.fullmatch(value):
        return "may only hold letters, digits and . _ : ~ -"
    return None


def is_valid_record_key(value: object) -> bool:
    return _record_key_problem(value) is None


def ensure_record_key(value: object) -> str:
    problem = _record_key_problem(value)
    if problem is not None:
        raise InvalidSyntax("record key", value, problem)
    assert isinstance(value, str)
    return value


TID_ALPHABET = "234567abcdefghijklmnopqrstuvwxyz"
_TID_RE = re.compile(r"[234567abcdefghij][234567abcdefghijklmnopqrstuvwxyz]{12}")


def _tid_problem(value: object) -> str | None:
    if not isinstance(value, str):
        return _not_a_string(value)
    if len(value) != 13:
        return f"a TID is 13 characters, got {len(value)}"
    if any(c not in TID_ALPHABET for c in value):
        return f"a TID uses only the characters {TID_ALPHABET}"
    if not _TID_RE.fullmatch(value):
        return "the first character must be 2-7 or a-j (the top bit of a TID is zero)"
    return None


def is_valid_tid(value: object) -> bool:
    return _tid_problem(value) is None


def ensure_tid(value: object) -> str:
    problem = _tid_problem(value)
    if problem is not None:
        raise InvalidSyntax("tid", value, problem)
    assert isinstance(value, str)
    return value


# ---------------------------------------------------------------------------------------
# at-identifier and AT-URI


def is_valid_at_identifier(value: object) -> bool:
    return is_valid_handle(value) or is_valid_did(value)


def ensure_at_identifier(value: object) -> str:
    """A DID as is, or a handle normalised to lowercase."""
    if isinstance(value, str) and value.startswith("did:"):
        return ensure_did(value)
    problem = _handle_problem(value)
    if problem is not None:
        raise InvalidSyntax("at-identifier", value, f"neither a DID nor a handle: {problem}")
    return ensure_handle(value)


_AT_URI_MAX = 8192


def _at_uri_parts_problem(authority: str, collection: str | None, rkey: str | None) -> str | None:
    if authority.startswith("did:"):
        problem = _did_problem(authority)
    else:
        problem = _handle_problem(authority)
    if problem is not None:
        return f"bad authority {authority[:40]!r}: {problem}"
    if collection is not None:
        problem = _nsid_problem(collection)
        if problem is not None:
            return f"bad collection {collection[:40]!r}: {problem}"
    if rkey is not None:
        if collection is None:
            return "a record key needs a collection"
        problem = _record_key_problem(rkey)
        if problem is not None:
            return f"bad record key {rkey[:40]!r}: {problem}"
    return None


@dataclass(frozen=True, slots=True)
class AtUri:
    """`at://<authority>[/<collection>[/<rkey>]]`, the restricted form records use.

    Constructing one validates the parts; `parse_at_uri` reads one from a string.
    """

    authority: str
    collection: str | None = None
    rkey: str | None = None

    def __post_init__(self) -> None:
        problem = _at_uri_parts_problem(self.authority, self.collection, self.rkey)
        if problem is not None:
            raise InvalidSyntax("at-uri", str(self), problem)

    def __str__(self) -> str:
        uri = f"at://{self.authority}"
        if self.collection is not None:
            uri += f"/{self.collection}"
            if self.rkey is not None:
                uri += f"/{self.rkey}"
        return uri

    @property
    def is_record(self) -> bool:
        """True when the URI names one record (it has a collection and a record key)."""
        return self.rkey is not None


def _split_at_uri(value: object) -> tuple[str | None, tuple[str, str | None, str | None]]:
    if not isinstance(value, str):
        return _not_a_string(value), ("", None, None)
    if len(value) > _AT_URI_MAX:
        return f"longer than {_AT_URI_MAX} characters", ("", None, None)
    if not value.startswith("at://"):
        return "must start with lowercase 'at://'", ("", None, None)
    rest = value[len("at://") :]
    if "#" in rest or "?" in rest:
        return "no query or fragment is allowed", ("", None, None)
    parts = rest.split("/")
    if len(parts) > 3:
        return "at most authority/collection/rkey", ("", None, None)
    if any(not part for part in parts):
        return "empty path segment (trailing or doubled slash)", ("", None, None)
    authority = parts[0]
    if not authority.startswith("did:") and _handle_problem(authority) is None:
        authority = authority.lower()
    collection = parts[1] if len(parts) > 1 else None
    rkey = parts[2] if len(parts) > 2 else None
    return _at_uri_parts_problem(authority, collection, rkey), (authority, collection, rkey)


def is_valid_at_uri(value: object) -> bool:
    return _split_at_uri(value)[0] is None


def parse_at_uri(value: object) -> AtUri:
    """Parse an AT-URI; a handle authority is normalised to lowercase."""
    problem, parts = _split_at_uri(value)
    if problem is not None:
        raise InvalidSyntax("at-uri", value, problem)
    return AtUri(*parts)


def ensure_at_uri(value: object) -> str:
    return str(parse_at_uri(value))


# ---------------------------------------------------------------------------------------
# datetime

_DATETIME_RE = re.compile(
    r"(?P<year>[0-9]{4})-(?P<month>[0-9]{2})-(?P<day>[0-9]{2})"
    r"T(?P<hour>[0-9]{2}):(?P<minute>[0-9]{2}):(?P<second>[0-9]{2})"
    r"(?:\.(?P<fraction>[0-9]+))?"
    r"(?P<tz>Z|[+-][0-9]{2}:[0-9]{2})"
)
_DATETIME_MAX = 64


def _is_leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def _days_in_month(year: int, month: int) -> int:
    if month == 2:
        return 29 if _is_leap(year) else 28
    return 30 if month in (4, 6, 9, 11) else 31


def _datetime_problem(value: object) -> str | None:
    if not isinstance(value, str):
        return _not_a_string(value)
    if len(value) > _DATETIME_MAX:
        return f"longer than {_DATETIME_MAX} characters"
    match = _DATETIME_RE.fullmatch(value)
    if match is None:
        return (
            "expected YYYY-MM-DDTHH:MM:SS[.fraction] then Z or ±HH:MM "
            "(uppercase T and Z, timezone required)"
        )
    year, month, day = (int(match[k]) for k in ("year", "month", "day"))
    hour, minute, second = (int(match[k]) for k in ("hour", "minute", "second"))
    if not 1 <= month <= 12:
        return f"month {month} out of range"
    if not 1 <= day <= _days_in_month(year, month):
        return f"day {day} out of range for month {month}"
    if hour > 23 or minute > 59:
        return "hour or minute out of range"
    if second > 59:
        return "second out of range (leap seconds are not supported)"
    tz = match["tz"]
    offset_minutes = 0
    if tz != "Z":
        if tz == "-00:00":
            return "the unknown-offset form -00:00 is not allowed; use Z or +00:00"
        tz_hours, tz_minutes = int(tz[1:3]), int(tz[4:6])
        if tz_hours > 23 or tz_minutes > 59:
            return f"timezone offset {tz} out of range"
        offset_minutes = (tz_hours * 60 + tz_minutes) * (1 if tz[0] == "+" else -1)
    if (
        year == 0
        and month == 1
        and day == 1
        and (hour * 60 + minute) * 60 + second < (offset_minutes * 60)
    ):
        return "the time in UTC falls before year 0"
    return None


def is_valid_datetime(value: object) -> bool:
    """The atproto datetime profile: RFC 3339 and ISO 8601 at once, timezone required."""
    return _datetime_problem(value) is None


def ensure_datetime(value: object) -> str:
    problem = _datetime_problem(value)
    if problem is not None:
        raise InvalidSyntax("datetime", value, problem)
    assert isinstance(value, str)
    return value


def parse_datetime(value: object) -> datetime:
    """An aware datetime in UTC; digits past microseconds are dropped.

    Year 0 is valid atproto but outside Python's range, so it raises InvalidSyntax too.
    """
    text = ensure_datetime(value)
    match = _DATETIME_RE.fullmatch(text)
    assert match is not None
    fraction = (match["fraction"] or "")[:6].ljust(6, "0")
    tz = match["tz"]
    offset = timedelta(0)
    if tz != "Z":
        offset = timedelta(hours=int(tz[1:3]), minutes=int(tz[4:6]))
        if tz[0] == "-":
            offset = -offset
    try:
        local = datetime(
            int(match["year"]),
            int(match["month"]),
            int(match["day"]),
            int(match["hour"]),
            int(match["minute"]),
            int(match["second"]),
            int(fraction),
            tzinfo=UTC,
        )
        return local - offset
    except (ValueError, OverflowError) as exc:
        raise InvalidSyntax("datetime", value, f"outside the range Python handles: {exc}") from exc


def format_datetime(moment: datetime, *, microseconds: bool = False) -> str:
    """The preferred atproto form: UTC, `Z`, millisecond (or microsecond) precision."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("format_datetime needs an aware datetime (plyr time is UTC)")
    utc = moment.astimezone(UTC)
    base = (
        f"{utc.year:04d}-{utc.month:02d}-{utc.day:02d}"
        f"T{utc.hour:02d}:{utc.minute:02d}:{utc.second:02d}"
    )
    if microseconds:
        return f"{base}.{utc.microsecond:06d}Z"
    return f"{base}.{utc.microsecond // 1000:03d}Z"


# ---------------------------------------------------------------------------------------
# CID (string syntax only; plyr.atproto.dagcbor decodes CIDs for real)

_CID_RE = re.compile(r"[A-Za-z0-9+=]{8,256}")
_CIDV0_RE = re.compile(r"Qm[1-9A-HJ-NP-Za-km-z]{44}")


def _cid_problem(value: object) -> str | None:
    if not isinstance(value, str):
        return _not_a_string(value)
    if not _CID_RE.fullmatch(value):
        return "a CID string is 8-256 characters of letters, digits, + and ="
    if _CIDV0_RE.fullmatch(value):
        return "CIDv0 (Qm...) is not supported; atproto uses CIDv1"
    return None


def is_valid_cid(value: object) -> bool:
    return _cid_problem(value) is None


def ensure_cid(value: object) -> str:
    problem = _cid_problem(value)
    if problem is not None:
        raise InvalidSyntax("cid", value, problem)
    assert isinstance(value, str)
    return value


# ---------------------------------------------------------------------------------------
# language tag (BCP 47 / RFC 5646)

# RFC 5646 section 2.2.8: tags from before RFC 4646 that do not fit the grammar (or do,
# but are kept whole). Compared case-insensitively.
_GRANDFATHERED = frozenset(
    tag.lower()
    for tag in [
        "en-GB-oed",
        "i-ami",
        "i-bnn",
        "i-default",
        "i-enochian",
        "i-hak",
        "i-klingon",
        "i-lux",
        "i-mingo",
        "i-navajo",
        "i-pwn",
        "i-tao",
        "i-tay",
        "i-tsu",
        "sgn-BE-FR",
        "sgn-BE-NL",
        "sgn-CH-DE",
        "art-lojban",
        "cel-gaulish",
        "no-bok",
        "no-nyn",
        "zh-guoyu",
        "zh-hakka",
        "zh-min",
        "zh-min-nan",
        "zh-xiang",
    ]
)
_ALNUM = re.compile(r"[A-Za-z0-9]+")


def _private_use_problem(subtags: list[str]) -> str | None:
    if not subtags:
        return "a private-use section 'x' needs at least one subtag"
    for subtag in subtags:
        if not 1 <= len(subtag) <= 8 or not _ALNUM.fullmatch(subtag):
            return f"bad private-use subtag {subtag!r}"
    return None


def _language_problem(value: object) -> str | None:
    if not isinstance(value, str):
        return _not_a_string(value)
    if not value or len(value) > 128:
        return "empty or longer than 128 characters"
    if value.lower() in _GRANDFATHERED:
        return None
    subtags = value.split("-")
    if any(not s or not s.isascii() or not _ALNUM.fullmatch(s) for s in subtags):
        return "subtags are ASCII letters and digits separated by single hyphens"
    if subtags[0].lower() == "x":
        return _private_use_problem(subtags[1:])
    # atproto's profile: the primary language subtag is 2-3 lowercase letters.
    if not re.fullmatch(r"[a-z]{2,3}", subtags[0]):
        return "the primary language subtag must be 2-3 lowercase letters"
    i = 1
    extlangs = 0
    while i < len(subtags) and extlangs < 3 and re.fullmatch(r"[A-Za-z]{3}", subtags[i]):
        i += 1
        extlangs += 1
    if i < len(subtags) and re.fullmatch(r"[A-Za-z]{4}", subtags[i]):  # script
        i += 1
    if i < len(subtags) and re.fullmatch(r"[A-Za-z]{2}|[0-9]{3}", subtags[i]):  # region
        i += 1
    variants: set[str] = set()
    while i < len(subtags) and re.fullmatch(r"[A-Za-z0-9]{5,8}|[0-9][A-Za-z0-9]{3}", subtags[i]):
        variant = subtags[i].lower()
        if variant in variants:
            return f"variant subtag {subtags[i]!r} is repeated"
        variants.add(variant)
        i += 1
    singletons: set[str] = set()
    while i < len(subtags) and len(subtags[i]) == 1 and subtags[i].lower() != "x":
        singleton = subtags[i].lower()
        if singleton in singletons:
            return f"extension singleton {subtags[i]!r} is repeated"
        singletons.add(singleton)
        i += 1
        start = i
        while i < len(subtags) and 2 <= len(subtags[i]) <= 8:
            i += 1
        if i == start:
            return f"extension {singleton!r} needs at least one subtag of 2-8 characters"
    if i < len(subtags) and subtags[i].lower() == "x":
        return _private_use_problem(subtags[i + 1 :])
    if i < len(subtags):
        return f"unexpected subtag {subtags[i]!r}"
    return None


def is_valid_language(value: object) -> bool:
    """A well-formed and valid BCP 47 tag (no repeated variants or extension singletons)."""
    return _language_problem(value) is None


def ensure_language(value: object) -> str:
    problem = _language_problem(value)
    if problem is not None:
        raise InvalidSyntax("language", value, problem)
    assert isinstance(value, str)
    return value


# ---------------------------------------------------------------------------------------
# generic URI (RFC 3986)

_URI_MAX = 8192
_URI_SCHEME_RE = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*")
_URI_REST_RE = re.compile(r"(?:[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=]|%[0-9A-Fa-f]{2})+")


def _uri_problem(value: object) -> str | None:
    if not isinstance(value, str):
        return _not_a_string(value)
    if len(value) > _URI_MAX:
        return f"longer than {_URI_MAX} characters"
    scheme, sep, rest = value.partition(":")
    if not sep or not _URI_SCHEME_RE.fullmatch(scheme):
        return "must start with a scheme (a letter, then letters, digits, + . -) and ':'"
    if not rest:
        return "nothing after the scheme"
    if not _URI_REST_RE.fullmatch(rest):
        return (
            "only RFC 3986 characters are allowed (no whitespace or non-ASCII; "
            "'%' must start a %XX escape)"
        )
    return None


def is_valid_uri(value: object) -> bool:
    return _uri_problem(value) is None


def ensure_uri(value: object) -> str:
    problem = _uri_problem(value)
    if problem is not None:
        raise InvalidSyntax("uri", value, problem)
    assert isinstance(value, str)
    return value
