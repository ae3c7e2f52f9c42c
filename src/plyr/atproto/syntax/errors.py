"""The error every syntax check raises, and the message parts the checks share."""

from __future__ import annotations

__all__ = [
    "InvalidSyntax",
    "not_a_string",
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


def not_a_string(value: object) -> str:
    """The reason every check gives for a value that is not a string at all."""
    return f"expected a string, got {type(value).__name__}"
