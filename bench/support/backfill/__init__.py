"""The pieces of `bench/backfill.py`: `world` fills repositories on a local network with
plyr records (tracks with their audio as blobs, likes, comments, lists, profiles); `timing`
runs the backfill phases against a fresh database and times them."""
