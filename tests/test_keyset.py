"""Keyset cursors: every moment a row can hold round-trips (before 1970 too, which another
client's record may carry), and anything else is no cursor."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from plyr.db.keyset import MAX_ROW_ID, cursor_for, parse_cursor


@pytest.mark.parametrize(
    "moment",
    [
        datetime(1, 1, 1, tzinfo=UTC),
        datetime(1969, 12, 31, 23, 0, 0, 1, tzinfo=UTC),
        datetime(1970, 1, 1, tzinfo=UTC),
        datetime(2026, 12, 6, 5, 50, 1, 123456, tzinfo=UTC),
        datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
    ],
)
def test_a_cursor_names_its_row_exactly(moment: datetime) -> None:
    assert parse_cursor(cursor_for(moment, 42)) == (moment, 42)
    assert parse_cursor(cursor_for(moment, MAX_ROW_ID)) == (moment, MAX_ROW_ID)


@pytest.mark.parametrize(
    "value",
    [
        None,
        "",
        "²-1",  # str.isdigit says yes, int() says no
        "1-²",
        "\u0663-1",  # an Arabic-Indic digit
        "1-",
        "-1",
        "--1-1",
        "1--1",
        " 1-1",
        "1-1\n",
        "1.5-1",
        f"1-{MAX_ROW_ID + 1}",  # past BIGINT
        "999999999999999999-1",  # past the year 9999
        "-999999999999999999-1",  # before the year 1
    ],
)
def test_anything_else_is_no_cursor(value: str | None) -> None:
    assert parse_cursor(value) is None
