"""What the listening tests share: the teal.fm collections and the now-playing TTL they use."""

from __future__ import annotations

TTL = 2.5  # now_playing_ttl_seconds for these tests
PLAY = "fm.teal.alpha.feed.play"
STATUS = "fm.teal.alpha.actor.status"
