"""Jams: listening together. A signed-in host starts one and shares its link; members who
open it hear the same track at the same position.

The server holds the state (`state`: the track, its position at a server time, playing or
paused, the upcoming tracks, the host, the members) in the database, so every web process
answers for every jam; `service` changes it (only the host controls playback, and can hand
control over); `hub` tells each process's open event streams when a jam changed (in
process at once, from other processes by a short poll of the jam's `version`). Clients
estimate their clock's offset from the server's and follow the timeline themselves
(`static/js/player/jam-sync.js`).

Joining needs a signed-in listener: members are listed by handle to each other, and the
tracks a jam plays are only public, listed ones.
"""
