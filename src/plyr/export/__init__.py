"""Exporting everything a user put on plyr: one zip of their originals (as uploaded), their
artwork, their plyr records as their PDS holds them, and a JSON manifest tying it together.

Three ways out, one path through `archive.prepare(...).chunks()`: `GET /api/me/export`
streams the zip to the browser as it is made; `POST /api/me/exports` queues the
`export.build` job, which streams it into storage for an expiring link (big libraries, a
progress bar in the portal); `plyr export --did DID --out FILE` writes it to a file.
Memory stays flat whatever the library's size: files are read and zipped a chunk at a time.

`contents.py` gathers the rows and names the files, `records.py` reads the records from
the PDS (plyr's own copies stand in when it is down), `zipping.py` drives stream-zip from
async code, `archive.py` orders the members and writes the manifest, `jobs.py` is the
export's life cycle (queued, running, ready, failed, expired) and its two jobs.
"""
