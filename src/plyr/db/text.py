"""Text the databases can hold. PostgreSQL's text types refuse NUL (U+0000) and the
statement fails; SQLite would store it. No name, bio, comment, tag or handle has one, so
the services refuse such input (422) or find nothing by it (404) before it reaches a
statement: the same answer on both databases."""

from __future__ import annotations

from plyr.errors import ServiceError

NUL = "\x00"


def storable(*values: str | None) -> bool:
    """No NUL in any of the values (None and empty strings are fine)."""
    return not any(value and NUL in value for value in values)


def require_storable(field: str, *values: str | None) -> None:
    """422 `invalid_input` naming `field` when one of the values holds a NUL."""
    if not storable(*values):
        message = f"the {field} contains a NUL character"
        raise ServiceError(422, "invalid_input", message, [{"field": field, "message": message}])
