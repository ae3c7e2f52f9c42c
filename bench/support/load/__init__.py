"""What `load.py` is made of: the catalogue with real audio behind it (`media`), the plyr
process and its memory (`server`, `memory`), signed-in uploaders (`accounts`), the three
kinds of simulated users (`listeners`, `browsing`, `uploads`), and the figures (`stats`,
`report`)."""
