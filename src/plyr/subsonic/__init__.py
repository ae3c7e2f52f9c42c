"""The Subsonic surface (`/rest/*`): Subsonic API 1.16.1 with OpenSubsonic extensions, for
the players that speak it (DSub, Symfonium, Feishin, Substreamer…), over the same domain
services as the web. `web/app.py` includes `router`; nothing here imports `plyr.web`.

- `routes`: the one route, `/rest/{method}[.view]`, GET or form POST; version and client
  checks; failures become Subsonic errors.
- `params`: the query string and a form body, merged.
- `auth`: API keys (developer tokens) and app passwords (`u`+`p`, `u`+`t`+`s`), the error
  codes 10/40/43/44, throttled failures.
- `answers`: one description of an answer (`Node`), serialised as XML or JSON.
- `errors`: the codes and `SubsonicError`.
- `registry`: `@method`, `Call`; the methods: `system` (ping, getLicense,
  getOpenSubsonicExtensions, tokenInfo), `browsing` (getMusicFolders, getIndexes,
  getArtists, getMusicDirectory, getGenres), `albums` (getArtist, getAlbum, getSong,
  getArtistInfo(2), getAlbumInfo(2)), `users` (getUser).
- `nodes`: the song, album and artist elements every method answers with.
- lists and search: `lists` (getAlbumList(2), getRandomSongs, getSongsByGenre,
  getTopSongs, getSimilarSongs2), `searching` (search2, search3; the empty query lists
  everything, for players that sync).
- actions as records: `starring` (star, unstar, getStarred(2)), `playlists` (get, create,
  update, delete), `scrobbling` (scrobble, getNowPlaying), `lyrics` (getLyrics,
  getLyricsBySongId); `acting`: who writes them to the PDS (an app password: the user's
  newest live session, else error 50).
- bytes: `media` (stream, download, getCoverArt, getAvatar; answers that are not
  envelopes), `transcoding` (when `stream` transcodes, the transcodes and their slots),
  `covers` (which picture an id names; sizes).

What is built, the decisions taken and the known limits: docs/subsonic.md.
"""

from __future__ import annotations

from plyr.subsonic.routes import router

__all__ = ["router"]
