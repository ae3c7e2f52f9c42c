"""Datetimes: the atproto profile of RFC 3339 and ISO 8601, checked, parsed and formatted."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from plyr.atproto.syntax.errors import InvalidSyntax, not_a_string

__all__ = [
    "ensure_datetime",
    "format_datetime",
    "is_valid_datetime",
    "parse_datetime",
]

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
        return not_a_string(value)
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
