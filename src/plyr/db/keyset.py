"""Keyset cursors: a page of a listing ordered newest first ends at a cursor naming its last
row, `<moment in µs since 1970>-<id>`; the next page is the rows strictly after it in
(moment desc, id desc) order. Unlike OFFSET, the database starts at the cursor in the
index however deep the page, and a row added meanwhile never shifts a page.

Pages (`?before=`) read a malformed cursor as none (the first page); the JSON API refuses
one (`checked_cursor`, 422), so a client's bug is not silently a loop over page one.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, or_

from plyr.errors import ServiceError

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# A cursor is at most a sign, 18 digits, a dash and 19 digits: the API bounds it so.
MAX_CURSOR = 48

MAX_ROW_ID = 2**63 - 1
# ASCII digits only (str.isdigit takes "²", which int() refuses); a moment before 1970 is
# negative, as records from other clients may carry such a createdAt.
_CURSOR = re.compile(r"(-?[0-9]{1,18})-([0-9]{1,19})", re.ASCII)

Position = tuple[datetime, int]


def cursor_for(moment: datetime, row_id: int) -> str:
    micros = (moment - EPOCH) // timedelta(microseconds=1)
    return f"{micros}-{row_id}"


def parse_cursor(value: str | None) -> Position | None:
    """The (moment, id) a cursor names; None for no cursor or a malformed one."""
    found = _CURSOR.fullmatch(value) if value else None
    if found is None:
        return None
    micros, row_id = int(found[1]), int(found[2])
    if row_id > MAX_ROW_ID:  # past BIGINT: PostgreSQL would refuse the query
        return None
    try:
        return EPOCH + timedelta(microseconds=micros), row_id
    except OverflowError:  # before the year 1 or past the year 9999
        return None


def checked_cursor(value: str | None) -> Position | None:
    """As `parse_cursor`, but a cursor given and malformed is refused (422)."""
    position = parse_cursor(value)
    if value and position is None:
        reason = "not a cursor plyr gave out: pass the `cursor` of the previous page as it is"
        raise ServiceError(
            422,
            "invalid_input",
            "the request is not valid",
            [{"field": "cursor", "reason": reason}],
        )
    return position


def older_than(moment: Any, row_id: Any, position: Position) -> ColumnElement[bool]:
    """Rows after `position` in (moment desc, id desc) order."""
    at, last_id = position
    # The first condition is the index range; the second breaks ties on the same instant.
    return and_(moment <= at, or_(moment < at, row_id < last_id))
