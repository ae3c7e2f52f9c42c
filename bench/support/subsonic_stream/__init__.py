"""What `subsonic_stream.py` is made of: a small catalogue with real MP3s behind its stream
keys and a Subsonic listener (`setup`), `plyr serve` on it (`server`), and the timing of a
request's first audio byte (`timing`)."""
