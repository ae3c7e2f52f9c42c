"""What `subsonic_load.py` is made of: the catalogue, its audio and a Subsonic listener
(`setup`), the `plyr serve` process (`server`), the paths measured side by side
(`scenarios`), and 50 clients driving one at a time (`drive`)."""
