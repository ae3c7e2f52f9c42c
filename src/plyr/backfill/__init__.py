"""Rebuilding plyr's index from the network (`plyr backfill`): repositories fetched from
their PDSes, verified, and their records indexed as the firehose would have delivered them.

- `run`: the phases and their order (start here);
- `targets`: the accounts named, or every repository a PDS or relay lists;
- `network`: listRepos, getLatestCommit, getRepo through the guarded client, with retries;
- `records`: records → indexer calls, the two phases, the spool between them, removals;
- `audio`: fetching the audio of the tracks still waiting for it;
- `state`: per-repository progress in `backfill_repos` (what makes a run resumable);
- `report`: progress events and the final report.
"""

from __future__ import annotations

from plyr.backfill.network import FetchLimits
from plyr.backfill.report import BackfillReport, Progress, ProgressCallback, Skipped
from plyr.backfill.run import BackfillOptions, backfill

__all__ = [
    "BackfillOptions",
    "BackfillReport",
    "FetchLimits",
    "Progress",
    "ProgressCallback",
    "Skipped",
    "backfill",
]
