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
  getOpenSubsonicExtensions, tokenInfo), `browsing` (getMusicFolders), `users` (getUser).

What is built, what is next and the decisions taken: docs/subsonic-status.md.
"""

from __future__ import annotations

from plyr.subsonic.routes import router

__all__ = ["router"]
