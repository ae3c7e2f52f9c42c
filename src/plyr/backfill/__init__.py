"""backfill (being written)."""
