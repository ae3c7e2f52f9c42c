"""Sign-in state: browser sessions and developer tokens, OAuth authorizations in flight, and
Subsonic app passwords."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Enum, ForeignKey, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from plyr.db.models.base import Base, UTCDateTime, utcnow


class SessionKind(enum.StrEnum):
    browser = "browser"  # the cookie of a signed-in browser
    dev_token = "dev_token"  # noqa: S105 - a developer token (`Bearer …`), its own grant


class AuthSession(Base):
    """A signed-in browser or a developer token, each holding its own OAuth grant.

    The id is the SHA-256 of the secret the user holds (cookie value or token), so the
    table alone lets no one sign in. OAuth tokens and the DPoP key are encrypted (`secrets`).
    """

    __tablename__ = "auth_sessions"
    __table_args__ = (Index("ix_auth_sessions_did_kind", "did", "kind"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[SessionKind] = mapped_column(
        Enum(SessionKind, native_enum=False, length=16, validate_strings=True)
    )
    did: Mapped[str] = mapped_column(ForeignKey("artists.did", ondelete="CASCADE"))
    name: Mapped[str | None] = mapped_column(String(100))
    token_hint: Mapped[str | None] = mapped_column(String(32))  # "plyr_ab12…" for lists
    issuer: Mapped[str] = mapped_column(String(2048))
    pds_url: Mapped[str] = mapped_column(String(2048))
    scope: Mapped[str] = mapped_column(Text)
    secrets: Mapped[bytes] = mapped_column(LargeBinary)
    access_expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # A lease, not a transaction: one process refreshes while the others wait for it.
    refresh_locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime] = mapped_column(default=utcnow)


class OAuthRequest(Base):
    """An authorization in flight, from the redirect to the PDS until the callback."""

    __tablename__ = "oauth_requests"

    state: Mapped[str] = mapped_column(String(64), primary_key=True)
    purpose: Mapped[str] = mapped_column(String(16))  # login | upgrade | dev_token
    issuer: Mapped[str] = mapped_column(String(2048))
    expected_did: Mapped[str | None] = mapped_column(String(2048))
    scope: Mapped[str] = mapped_column(Text)
    # PKCE verifier and DPoP key, encrypted like session secrets.
    secrets: Mapped[bytes] = mapped_column(LargeBinary)
    # For upgrades and developer tokens: the browser session that asked.
    session_id: Mapped[str | None] = mapped_column(String(64))
    token_name: Mapped[str | None] = mapped_column(String(100))
    token_days: Mapped[int | None] = mapped_column(Integer)
    return_to: Mapped[str | None] = mapped_column(String(512))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)


class SubsonicPassword(Base):
    """A user's Subsonic app password, for players that sign in with `u`+`p` or `u`+`t`+`s`.

    Token auth (`t` = md5(password + salt), a salt per request) needs the password itself on
    the server, so it is sealed (Fernet under a key of its own, `plyr.auth.subsonic_passwords`),
    not hashed. One per user; generating a new one replaces it.
    """

    __tablename__ = "subsonic_passwords"

    did: Mapped[str] = mapped_column(
        ForeignKey("artists.did", ondelete="CASCADE"), primary_key=True
    )
    sealed: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Touched at most every few minutes, for the settings page ("last used …").
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
