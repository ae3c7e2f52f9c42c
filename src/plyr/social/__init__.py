"""What listeners and artists publish besides tracks: likes, comments, albums, playlists,
profiles; and the preferences, moderation flags and account life cycle around them."""

# The record builders register the synced record types with the record.sync job; the
# firehose indexers are registered by plyr.handlers.
from plyr.social import records as records
