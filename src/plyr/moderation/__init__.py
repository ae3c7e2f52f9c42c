"""Copyright moderation: fingerprints and matching, flags and their review, takedowns and
hidden accounts, the admin tools, and the signed labels plyr's labeler publishes.

- `matching.py`     the matcher interface, the local Chromaprint index, the web-service backend
- `scanning.py`     the jobs: fingerprint a published track, match it, open flags; the backfill
- `index.py`        the per-process index of reference works and track fingerprints
- `references.py`   the operator's reference catalogue (import audio or fingerprint files)
- `flags.py`        listing, resolving (bulk), appeals
- `takedown.py`     taking a track down / restoring it, hiding an account, deleting a track
- `labels.py`       issuing, signing, negating and querying labels
- `labeler.py`      the labeler's identity: its key, its DID document, its service record
- `audit.py`        the audit log every decision writes
"""
