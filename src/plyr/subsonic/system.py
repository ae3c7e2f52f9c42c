"""System methods: ping, getLicense, getOpenSubsonicExtensions, tokenInfo.

`EXTENSIONS` lists the OpenSubsonic extensions plyr implements, with their versions; add
one only when every part of it works (clients switch behaviour on it).
"""

from __future__ import annotations

from plyr.subsonic.answers import Node, Payload
from plyr.subsonic.errors import missing
from plyr.subsonic.registry import Call, method

EXTENSIONS: dict[str, list[int]] = {
    "apiKeyAuthentication": [1],
    "formPost": [1],
    "transcodeOffset": [1],  # media.py: stream's timeOffset, for music
    "songLyrics": [1],  # lyrics.py: plyr holds none yet (issue 20), but the methods answer
}


@method("ping")
async def ping(call: Call) -> Payload:
    return {}


@method("getLicense")
async def get_license(call: Call) -> Payload:
    """plyr is free software: the licence is always valid and never expires."""
    return {"license": Node({"valid": True})}


@method("getOpenSubsonicExtensions", public=True)
async def get_open_subsonic_extensions(call: Call) -> Payload:
    return {
        "openSubsonicExtensions": [
            Node({"name": name}, {"versions": versions}) for name, versions in EXTENSIONS.items()
        ]
    }


@method("tokenInfo")
async def token_info(call: Call) -> Payload:
    """apiKeyAuthentication's: whose the API key is. Only an API key has one to describe."""
    if call.listener.via != "api_key":
        raise missing("apiKey")
    return {"tokenInfo": Node({"username": call.listener.handle})}
