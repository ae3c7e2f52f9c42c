"""Browsing: getMusicFolders (so far).

plyr has one library, every track it indexes: one music folder, id 1. A `musicFolderId`
other methods take is therefore 1 or absent.
"""

from __future__ import annotations

from plyr.subsonic.answers import Node, Payload
from plyr.subsonic.registry import Call, method

MUSIC_FOLDER_ID = 1
MUSIC_FOLDER_NAME = "plyr"


@method("getMusicFolders")
async def get_music_folders(call: Call) -> Payload:
    folder = Node({"id": MUSIC_FOLDER_ID, "name": MUSIC_FOLDER_NAME})
    return {"musicFolders": Node(children={"musicFolder": [folder]})}
