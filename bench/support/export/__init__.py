"""What `bench/export.py` is made of: `library` (a large library written straight into
storage and the database), `measured` (the processes whose memory is sampled: the job's
path and plyr serving `GET /api/me/export`)."""
