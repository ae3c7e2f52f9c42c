"""What listeners and artists publish besides tracks: likes, comments, albums, playlists,
profiles; and the preferences, moderation flags and account life cycle around them."""

# The record builders register the synced record types (and the record.sync job with them).
from plyr.social import indexing as indexing
from plyr.social import records as records
