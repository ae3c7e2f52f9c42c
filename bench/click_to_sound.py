"""Click-to-sound in Chromium: from a click on a track's play button to the <audio>
element's `playing` event, cold and warm, on a real `plyr serve` with real uploads.

Starts a local ATProto network with one account, `plyr serve` (SQLite, local files, web
and jobs in one process), signs the account in through the real sign-in, uploads --tracks
tracks of --seconds each through the API (MP3, FLAC, and AIFF that plyr transcodes) and
waits until they are published. Then in headless Chromium (Debian's, driven by
Playwright), signed in:

- cold: for each track, a fresh browser profile (empty cache and storage) opens the
  track's page and clicks ▶: the first play of that track on a page just opened;
- warm: one profile plays every track once, then opens each track's page again and
  clicks ▶: a track played before, its page and audio in the browser's cache.

Each click is timed in the page (`bench/support/click_to_sound/clicks.py`): from the click
event's time stamp to `playing`, with `loadstart` (the source was set), `loadedmetadata`
and `canplay` on the way. It prints the medians (the target is 150 ms), p90 and the worst,
the phases' medians, and the load average, since other work shares this machine.

With --baseline REV the clicks are made twice, taking turns: with the player's scripts
as the git revision REV had them (served to the browser in place of this tree's) and with
this tree's, so a change to the player is measured beside what it replaced.

Usage: .venv/bin/python bench/click_to_sound.py [--tracks 30] [--seconds 180]
           [--baseline HEAD]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # tests.support: the browser and its sign-in

from tests.support.browser import launch_browser  # noqa: E402

from support.click_to_sound.clicks import (  # noqa: E402
    Click,
    Player,
    cold_clicks,
    from_revision,
    warm_clicks,
)
from support.click_to_sound.library import running_library  # noqa: E402

TARGET_MS = 150.0
PHASES = ("loadstart", "loadedmetadata", "canplay")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tracks", type=int, default=30, help="tracks uploaded; one click each")
    parser.add_argument("--seconds", type=float, default=180.0, help="length of each track")
    parser.add_argument(
        "--baseline",
        metavar="REV",
        help="also click with the player's scripts of this git revision, side by side",
    )
    return parser.parse_args()


def load() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def table(results: dict[str, list[Click]]) -> list[str]:
    lines = [
        "| clicks | n | click → playing p50 ms | p90 | worst | "
        + " | ".join(f"→ {phase} p50" for phase in PHASES)
        + " | ≤ 150 ms |",
        "| --- " * (6 + len(PHASES)) + "|",
    ]
    for name, clicks in results.items():
        playing = [click.playing_ms for click in clicks]
        phases = [
            statistics.median(click.phases.get(phase, float("nan")) for click in clicks)
            for phase in PHASES
        ]
        median = statistics.median(playing)
        lines.append(
            f"| {name} | {len(clicks)} | {median:.0f} | {quantile(playing, 0.9):.0f} | "
            f"{max(playing):.0f} | "
            + " | ".join(f"{value:.0f}" for value in phases)
            + f" | {'yes' if median <= TARGET_MS else 'no'} |"
        )
    return lines


async def main() -> None:
    args = parse_args()
    began = time.perf_counter()
    print(f"load average at the start: {load()}")
    with tempfile.TemporaryDirectory(prefix="plyr-click-to-sound-") as folder:
        async with running_library(Path(folder), args.tracks, args.seconds) as library:
            kinds = {
                f: sum(v == f for v in library.formats.values()) for f in ("mp3", "flac", "aiff")
            }
            print(
                f"{len(library.track_ids)} tracks of {args.seconds:.0f} s published at "
                f"{library.base} ({', '.join(f'{n} {f}' for f, n in kinds.items())}) "
                f"in {time.perf_counter() - began:.0f} s"
            )
            players = [Player("this tree")]
            if args.baseline:
                players.insert(0, from_revision(ROOT, args.baseline))
            async with launch_browser() as browser:
                before = load()
                base, cookie, ids = library.base, library.cookie, library.track_ids
                cold = await cold_clicks(browser, base, cookie, ids, players)
                warm = await warm_clicks(browser, base, cookie, ids, players)
                after = load()
    results = {f"cold, {name}": clicks for name, clicks in cold.items()}
    results |= {f"warm, {name}": clicks for name, clicks in warm.items()}
    print()
    print("\n".join(table(results)))
    print()
    for name, clicks in results.items():
        median = statistics.median(click.playing_ms for click in clicks)
        verdict = "met" if median <= TARGET_MS else "NOT met"
        print(f"issue 19 target: {name} median {median:.0f} ms; target <= {TARGET_MS}: {verdict}")
    print(f"\nload average: {before} before the clicks, {after} after")


if __name__ == "__main__":
    asyncio.run(main())
