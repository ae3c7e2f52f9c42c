"""Transcode speed: a 10-minute AIFF to MP3 320k (and Opus), plyr's PyAV path next to the
`ffmpeg` command line doing the same on this machine, as multiples of real time.

Usage: uv run python bench/transcode.py [--minutes 10]
Needs the `ffmpeg` command for the comparison (Debian: apt-get install ffmpeg).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import av
import numpy as np

from plyr.media.loudness import integrated_loudness
from plyr.media.transcode import transcode

RATE = 44_100


def make_aiff(path: Path, minutes: float) -> None:
    """Music-like test audio: a few detuned partials with noise (a pure tone is too easy)."""
    rng = np.random.default_rng(7)
    with av.open(str(path), "w", format="aiff") as container:
        stream = container.add_stream("pcm_s16be", rate=RATE, layout="stereo")
        block = RATE  # one second at a time
        for second in range(int(minutes * 60)):
            t = (np.arange(block) + second * block) / RATE
            tone = sum(
                np.sin(2 * np.pi * f * t) * a for f, a in ((220, 0.3), (331, 0.2), (442.5, 0.1))
            )
            left = tone + rng.normal(0, 0.05, block)
            right = np.roll(tone, 40) + rng.normal(0, 0.05, block)
            samples = (np.clip(np.stack([left, right]), -1, 1) * 32000).astype(np.int16)
            frame = av.AudioFrame.from_ndarray(
                samples.T.reshape(1, -1).copy(), format="s16", layout="stereo"
            )
            frame.sample_rate = RATE
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)


def timed(label: str, seconds_of_audio: float, func: object) -> tuple[str, float, float]:
    started = time.perf_counter()
    func()  # type: ignore[operator]
    elapsed = time.perf_counter() - started
    return label, elapsed, seconds_of_audio / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    args = parser.parse_args()
    audio_seconds = args.minutes * 60
    ffmpeg = shutil.which("ffmpeg")
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        source = work / "source.aiff"
        make_aiff(source, args.minutes)
        print(f"source: {args.minutes:g} min AIFF, {source.stat().st_size / 1e6:.0f} MB")
        rows = [
            timed("plyr (PyAV) → mp3 320k", audio_seconds, lambda: transcode(source, work, "mp3")),
            timed(
                "plyr (PyAV) → opus 160k", audio_seconds, lambda: transcode(source, work, "opus")
            ),
            timed("plyr loudness (EBU R128)", audio_seconds, lambda: integrated_loudness(source)),
        ]
        if ffmpeg:
            for label, codec_args, name in (
                ("ffmpeg CLI → mp3 320k", ["-codec:a", "libmp3lame", "-b:a", "320k"], "x.mp3"),
                ("ffmpeg CLI → opus 160k", ["-codec:a", "libopus", "-b:a", "160k"], "x.ogg"),
            ):
                command = [ffmpeg, "-v", "error", "-y", "-i", str(source), *codec_args]
                command.append(str(work / name))
                rows.append(
                    timed(
                        label,
                        audio_seconds,
                        lambda command=command: subprocess.run(command, check=True),
                    )
                )
        else:
            print("ffmpeg not found: no command-line comparison (apt-get install ffmpeg)")
    print(f"\n{'':34} {'seconds':>8} {'x real time':>12}")
    for label, elapsed, speed in rows:
        print(f"{label:34} {elapsed:8.2f} {speed:12.0f}")
    by_label = {label: speed for label, _, speed in rows}
    for target in ("mp3 320k", "opus 160k"):
        ours, theirs = (
            by_label.get(f"plyr (PyAV) → {target}"),
            by_label.get(f"ffmpeg CLI → {target}"),
        )
        if ours and theirs:
            print(f"plyr / ffmpeg ({target}): {ours / theirs:.2f}")


if __name__ == "__main__":
    main()
