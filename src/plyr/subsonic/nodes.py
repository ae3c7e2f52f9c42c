"""The answer elements of songs, albums and artists (Child, AlbumID3, ArtistID3...), built
once for every method."""

from __future__ import annotations
