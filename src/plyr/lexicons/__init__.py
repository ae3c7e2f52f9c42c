"""Lexicon documents (JSON) of the records plyr writes, shipped as package data.

`plyr.atproto.lexicon.load_lexicons` reads them. The files live under a folder per NSID
segment (`fm/plyr/track.json` is `fm.plyr.track`), as in the atproto repository. The
`fm.plyr` ids are the base namespace; the loader rewrites them to the configured one.
"""
