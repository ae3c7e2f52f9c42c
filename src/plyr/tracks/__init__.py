"""Tracks: uploads, media processing, publishing to the PDS, streaming, plays."""
