"""Copyright moderation: fingerprints and matching, flags and their review, takedowns and
hidden accounts, the admin tools, and the signed labels plyr's labeler publishes.

- `matching.py`         the matcher interface and the local Chromaprint index (FingerprintIndex)
- `acoustid.py`         the web-service matcher (off by default) and `matcher_for`
- `index.py`            the per-process index of reference works and track fingerprints
- `scanning.py`         the jobs: fingerprint a published track, match it, open flags; backfill
- `references.py`       the operator's reference catalogue (import audio or fingerprint files)
- `flags.py`            listing, resolving (bulk), reopening, the artist's one appeal
- `flags_view.py`       what a flag shows: the operators' full view, the artist's own
- `review.py`           what the review pages need beside the flags (review audio, handles)
- `takedown.py`         taking a track down / restoring it, hiding an account / showing it
- `admin.py`            an operator's delete of a track, with a report of what went and what stays
- `labels.py`           issuing, signing, negating and querying labels
- `labeler.py`          the labeler's identity: its key, its DID document, its service record
- `devnet_labeler.py`   the development network's labeler, made by `serve --devnet`
- `sensitive_labels.py` sensitive artwork flagged, as labels on the records that show it
- `relabel.py`          labels following a track's new record version; flagged artwork backfilled
- `audit.py`            the audit log every decision writes
"""
