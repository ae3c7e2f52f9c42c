"""Every job handler and firehose indexer plyr has. Importing this module registers them
all (each module registers its own with `@job_handler` / `@record_handler`), so the roles
that run jobs or follow the firehose (`plyr serve`, `plyr worker`, `plyr ingest`) import
it and none of them misses a kind."""

from __future__ import annotations

from types import ModuleType

from plyr.listening import scrobble
from plyr.moderation import relabel, scanning
from plyr.social import indexing, sync
from plyr.tracks import deleting, processing, publishing

HANDLER_MODULES: tuple[ModuleType, ...] = (
    processing,  # track.process
    publishing,  # track.publish
    deleting,  # track.delete
    sync,  # record.sync (likes, comments, lists, profiles)
    scrobble,  # teal.scrobble
    indexing,  # firehose indexers of likes, comments, lists, profiles
    scanning,  # moderation.scan, moderation.scan_works, moderation.backfill
    relabel,  # moderation.relabel, moderation.sensitive_backfill
)
