"""LRC, the text format of synced lyrics, read in one place.

A line is one or more times, then its words: `[01:02.50][02:10.00]all of it`. Times are
`[mm:ss]`, `[mm:ss.x]` to `[mm:ss.xxx]` (a colon instead of the dot is accepted: some
editors write it). `[offset:+250]` moves every line by that many milliseconds (positive:
earlier, as the format says). Other `[key:value]` tags (`ar`, `ti`, `al`, `by`, `length`...)
and word times inside a line (`<mm:ss.xx>`, "enhanced" LRC) are metadata plyr does not
show: left out. Blank lines are nothing. A line with words but no time is an error: the
text is not LRC, and the artist should hear so (422), not see it silently dropped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_TIME = re.compile(r"\[(\d{1,3}):([0-5]?\d)(?:[.:](\d{1,3}))?\]")
_TAG = re.compile(r"^\[([A-Za-z#][\w#-]*):(.*)\]$")
_WORD_TIME = re.compile(r"<\d{1,3}:\d{1,2}(?:[.:]\d{1,3})?>")


class LrcError(ValueError):
    """The text is not LRC; the message names the line (1-based) and what is wrong."""


@dataclass(frozen=True, slots=True)
class TimedLine:
    start_ms: int
    text: str


def _millis(minutes: str, seconds: str, fraction: str | None) -> int:
    # ".5" is half a second, ".50" too, ".500" too: the digits are a decimal fraction.
    part = int((fraction or "0").ljust(3, "0")[:3])
    return (int(minutes) * 60 + int(seconds)) * 1000 + part


def _offset(value: str, number: int) -> int:
    try:
        return int(value.strip())
    except ValueError:
        raise LrcError(f"line {number}: the offset must be whole milliseconds") from None


def parse(text: str) -> list[TimedLine]:
    """The timed lines of an LRC text, by start time (lines of one time keep their order).
    Raises LrcError when a line is neither a tag, a timed line nor blank, or nothing is
    timed."""
    timed: list[tuple[int, str]] = []
    offset = 0
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        times: list[int] = []
        rest = line
        while match := _TIME.match(rest):
            times.append(_millis(*match.groups()))
            rest = rest[match.end() :].lstrip()
        if times:
            words = _WORD_TIME.sub("", rest).strip()
            timed += [(start, words) for start in times]
            continue
        if tag := _TAG.match(line):
            if tag.group(1).lower() == "offset":
                offset = _offset(tag.group(2), number)
            continue
        raise LrcError(f"line {number} has no time: start it with [mm:ss.xx]")
    if not timed:
        raise LrcError("no timed line: synced lyrics need lines like [00:12.50] words")
    ordered = sorted(timed, key=lambda item: item[0])  # stable: equal times keep their order
    return [TimedLine(max(0, start - offset), words) for start, words in ordered]
