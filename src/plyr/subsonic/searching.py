"""search2 and search3 over plyr's one search."""

from __future__ import annotations
