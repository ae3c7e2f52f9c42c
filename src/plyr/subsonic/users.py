"""User methods: getUser.

A Subsonic user is a plyr account; its username is the handle (the DID works too, see
`plyr.auth.subsonic_passwords`). There are no admins over Subsonic: each user may read
only their own user, and the roles say what plyr's Subsonic surface lets anyone do.
"""

from __future__ import annotations

from plyr.subsonic.answers import Node, Payload
from plyr.subsonic.browsing import MUSIC_FOLDER_ID
from plyr.subsonic.errors import Code, SubsonicError
from plyr.subsonic.registry import Call, method

ROLES = {
    "scrobblingEnabled": True,  # scrobble counts plays (and writes teal.fm plays when on)
    "adminRole": False,
    "settingsRole": False,  # settings live on plyr's own pages
    "downloadRole": True,
    "uploadRole": False,
    "playlistRole": True,
    "coverArtRole": True,
    "commentRole": False,
    "podcastRole": False,
    "streamRole": True,
    "jukeboxRole": False,
    "shareRole": False,
    "videoConversionRole": False,
}


@method("getUser")
async def get_user(call: Call) -> Payload:
    listener = call.listener
    asked = call.params.require("username").strip().removeprefix("@").lower()
    if asked not in (listener.handle.lower(), listener.did.lower()):
        raise SubsonicError(Code.NOT_AUTHORIZED, "you may read only your own user")
    user = Node({"username": listener.handle, **ROLES}, {"folder": [MUSIC_FOLDER_ID]})
    return {"user": user}
