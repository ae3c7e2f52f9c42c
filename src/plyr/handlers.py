"""Every job handler and firehose indexer plyr has. Importing this module registers them
all (each module registers its own with `@job_handler` / `@record_handler`), so the roles
that run jobs or follow the firehose (`plyr serve`, `plyr worker`, `plyr ingest`) import
it and none of them misses a kind."""

from __future__ import annotations

from types import ModuleType

from plyr.export import jobs as export_jobs
from plyr.listening import scrobble
from plyr.moderation import relabel, scanning
from plyr.social import bluesky, indexing, sync
from plyr.tracks import deleting, fetching, network, processing, publishing, waveforms

HANDLER_MODULES: tuple[ModuleType, ...] = (
    processing,  # track.process
    publishing,  # track.publish
    deleting,  # track.delete
    fetching,  # track.fetch_audio (tracks indexed from the network)
    waveforms,  # track.waveform, track.waveform_backfill
    sync,  # record.sync (likes, comments, lists, profiles)
    scrobble,  # teal.scrobble
    bluesky,  # bluesky.share
    indexing,  # firehose indexers of likes, comments, lists, profiles
    network,  # firehose indexer of tracks
    scanning,  # moderation.scan, moderation.scan_works, moderation.backfill
    relabel,  # moderation.relabel, moderation.sensitive_backfill
    export_jobs,  # export.build, export.expire
)
