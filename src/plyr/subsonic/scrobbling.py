"""scrobble (plays, teal.fm) and getNowPlaying."""

from __future__ import annotations
