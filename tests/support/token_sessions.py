"""A developer token as a real session row, without the OAuth dance: for app tests whose
calls never reach the user's PDS (reads, preferences), where a token from the settings
page (tests/support/dev_tokens.py, a browser and the PDS) would only cost time. Its grant
is a placeholder: anything that writes a record with it fails."""

from __future__ import annotations

from datetime import timedelta

from joserfc.jwk import ECKey

from plyr.auth import oauth
from plyr.auth.sessions import create_session
from plyr.db.models import SessionKind, utcnow
from plyr.runtime import Runtime


async def token_for(runtime: Runtime, did: str, *, name: str = "tests") -> str:
    """A `plyr_…` token for `did` (its artist row must exist)."""
    grant = oauth.TokenSet("unused-access", None, utcnow().timestamp() + 3600, "atproto", did)
    server = oauth.AuthServer("https://pds.test", "", "", "", None)
    return await create_session(
        runtime,
        kind=SessionKind.dev_token,
        tokens=grant,
        server=server,
        pds_url="https://pds.test",
        dpop_key=ECKey.generate_key("P-256", private=True, auto_kid=True),
        name=name,
        lifetime=timedelta(days=1),
    )
