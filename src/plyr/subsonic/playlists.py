"""Playlists: getPlaylists, getPlaylist, createPlaylist, updatePlaylist, deletePlaylist (lists
in the owner's PDS)."""

from __future__ import annotations
