"""getLyrics and getLyricsBySongId."""

from __future__ import annotations
