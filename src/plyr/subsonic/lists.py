"""Album and song lists: getAlbumList, getAlbumList2, getRandomSongs, getSongsByGenre,
getTopSongs, getSimilarSongs2."""

from __future__ import annotations
