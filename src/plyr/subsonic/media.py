"""Bytes: stream, download, getCoverArt, getAvatar."""

from __future__ import annotations
