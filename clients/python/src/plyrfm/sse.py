"""An incremental Server-Sent Events parser (the WHATWG event-stream format): feed it
bytes as they arrive, take whole events out. Comments (`: keep-alive`) are skipped, `data`
lines join with newlines, CRLF / CR / LF all end a line, and an event only counts once
the blank line after it arrived."""

from __future__ import annotations

import codecs
from dataclasses import dataclass


@dataclass(frozen=True)
class ServerEvent:
    event: str  # "message" when the stream does not name it
    data: str
    id: str | None = None


class EventStreamParser:
    def __init__(self) -> None:
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._buffer = ""
        self._event = ""
        self._data: list[str] = []
        self._id: str | None = None
        self._first = True

    def feed(self, chunk: bytes) -> list[ServerEvent]:
        """The events completed by this chunk."""
        text = self._decoder.decode(chunk)
        if self._first and text:
            text = text.removeprefix("\ufeff")  # a byte-order mark may open the stream
            self._first = False
        self._buffer += text
        events: list[ServerEvent] = []
        while True:
            end = self._line_end()
            if end is None:
                break
            line, self._buffer = self._buffer[: end[0]], self._buffer[end[1] :]
            event = self._line(line)
            if event is not None:
                events.append(event)
        return events

    def _line_end(self) -> tuple[int, int] | None:
        """Where the first complete line ends, and where the next starts. A CR last in
        the buffer waits: it may be half of a CRLF split between chunks."""
        for i, char in enumerate(self._buffer):
            if char == "\n":
                return i, i + 1
            if char == "\r":
                if i + 1 == len(self._buffer):
                    return None
                return i, i + (2 if self._buffer[i + 1] == "\n" else 1)
        return None

    def _line(self, line: str) -> ServerEvent | None:
        if not line:
            return self._dispatch()
        if line.startswith(":"):
            return None  # a comment: keep-alives
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if name == "event":
            self._event = value
        elif name == "data":
            self._data.append(value)
        elif name == "id" and "\0" not in value:
            self._id = value
        return None  # "retry" and unknown fields: nothing to do here

    def _dispatch(self) -> ServerEvent | None:
        event, data = self._event, self._data
        self._event, self._data = "", []
        if not data:
            return None
        return ServerEvent(event or "message", "\n".join(data), self._id)
