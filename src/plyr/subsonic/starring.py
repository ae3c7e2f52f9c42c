"""star, unstar, getStarred, getStarred2: stars are likes in the listener's PDS."""

from __future__ import annotations
