"""Job kinds and their handlers. Domain modules register handlers with `@job_handler`."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker


class PermanentJobError(Exception):
    """Raised by a handler when retrying cannot help (bad input): the job fails at once."""


class ProgressReporter(Protocol):
    async def __call__(
        self, phase: str | None, progress: float | None = None, message: str | None = None
    ) -> None: ...


@dataclass
class JobContext:
    """What a handler gets besides its payload."""

    job_id: int
    kind: str
    attempt: int
    payload: dict[str, Any]
    sessions: async_sessionmaker[AsyncSession]
    report: ProgressReporter
    services: dict[str, Any] = field(default_factory=dict)
    max_attempts: int = 8

    @property
    def last_attempt(self) -> bool:
        """True when a failure now fails the job for good (handlers record why)."""
        return self.attempt >= self.max_attempts


Handler = Callable[[JobContext], Awaitable[dict[str, Any] | None]]

_HANDLERS: dict[str, Handler] = {}
_MAX_ATTEMPTS: dict[str, int] = {}


def job_handler(kind: str, *, max_attempts: int | None = None) -> Callable[[Handler], Handler]:
    """Register the handler of `kind`. `max_attempts` is the kind's retry budget when the
    enqueuer names none (a write to a PDS that may be down for hours needs a larger one
    than the table's default)."""

    def register(func: Handler) -> Handler:
        if kind in _HANDLERS and _HANDLERS[kind] is not func:
            raise ValueError(f"job kind {kind!r} already has a handler")
        _HANDLERS[kind] = func
        if max_attempts is not None:
            _MAX_ATTEMPTS[kind] = max_attempts
        return func

    return register


def get_handler(kind: str) -> Handler | None:
    return _HANDLERS.get(kind)


def default_max_attempts(kind: str) -> int | None:
    """The retry budget the handler of `kind` asked for; None: the table's default."""
    return _MAX_ATTEMPTS.get(kind)


def registered_kinds() -> list[str]:
    return sorted(_HANDLERS)
