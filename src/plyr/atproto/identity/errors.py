"""What goes wrong resolving an identity; every error's `message` is fit to show the user."""

from __future__ import annotations

from typing import ClassVar

from plyr.atproto.netguard import BlockedAddress

__all__ = [
    "DidNotFound",
    "HandleMismatch",
    "HandleNotFound",
    "HostUnreachable",
    "IdentityBlocked",
    "IdentityError",
    "IdentityUnavailable",
    "InvalidDid",
    "InvalidDidDocument",
    "InvalidHandle",
    "preview",
]


class IdentityError(ValueError):
    """An identity could not be resolved; `message` is fit to show the user."""

    retryable: ClassVar[bool] = False

    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(message)


class InvalidHandle(IdentityError):
    """Not a handle plyr can resolve (syntax, or a reserved top-level domain)."""


class InvalidDid(IdentityError):
    """Not a DID plyr can resolve (syntax, or a method atproto does not use)."""


class HandleNotFound(IdentityError):
    """Neither DNS nor the handle's web server names a DID."""


class DidNotFound(IdentityError):
    """The DID has no document (unknown to the directory, or deleted)."""


class InvalidDidDocument(IdentityError):
    """The DID document is unusable: malformed, too large, or without a PDS."""


class HandleMismatch(IdentityError):
    """The handle points at a DID whose document does not name the handle back."""


class IdentityUnavailable(IdentityError):
    """A server or DNS did not answer in time or failed (5xx); trying later may work."""

    retryable = True


class HostUnreachable(IdentityUnavailable):
    """The connection failed outright (no such host, refused)."""


class IdentityBlocked(BlockedAddress, IdentityError):
    """Resolution would have fetched a private or otherwise refused address.

    Both a BlockedAddress and an IdentityError (BlockedAddress.__init__ hands its message
    on to IdentityError.__init__ through the MRO).
    """


def preview(value: object) -> str:
    """`value` as repr shows it, cut to fit in a message."""
    shown = repr(value)
    return shown if len(shown) <= 80 else shown[:77] + "..."
