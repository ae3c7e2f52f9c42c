"""Transcode speed: a 10-minute AIFF to MP3 320k (plyr's default copy) and to Opus 160k,
plyr's path next to the `ffmpeg` command line doing the same conversion on this machine.

Usage: .venv/bin/python bench/transcode.py [--minutes 10] [--rounds 3]

Needs Debian's `ffmpeg` for the comparison: installed with apt-get when run as root,
otherwise it says how and stops. Each round runs every conversion once, one after the
other; the table has each one's median over the rounds, wall and CPU seconds (the CPU of
this process for plyr's, of the child for the CLI's: less moved by what else the machine
runs), and the ratios are speeds, plyr's over the CLI's (1.0 = as fast). The row "PyAV's
LAME" is plyr's MP3 before `plyr.media.lame`: PyAV's own encoder, as where the machine
has no libmp3lame.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from unittest import mock

import av
import numpy as np

from plyr.media import lame
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


def ensure_ffmpeg() -> str:
    """Debian's ffmpeg: found, or installed when this runs as root; else a clear stop."""
    found = shutil.which("ffmpeg")
    if found:
        return found
    if os.geteuid() == 0 and shutil.which("apt-get"):
        print("installing Debian's ffmpeg (apt-get install -y ffmpeg) for the comparison")
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        install = ["apt-get", "install", "-y", "-qq", "ffmpeg"]
        if subprocess.run(install, env=env, check=False).returncode != 0:
            subprocess.run(["apt-get", "update", "-qq"], env=env, check=True)
            subprocess.run(install, env=env, check=True)
        found = shutil.which("ffmpeg")
    if not found:
        sys.exit("the comparison needs the ffmpeg command: apt-get install ffmpeg (as root)")
    return found


def _cpu() -> float:
    """CPU seconds of this process and of its finished children, together."""
    own, children = (
        resource.getrusage(resource.RUSAGE_SELF),
        resource.getrusage(resource.RUSAGE_CHILDREN),
    )
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def timed(func: Callable[[], object]) -> tuple[float, float]:
    """(wall, CPU) seconds of one call."""
    cpu, started = _cpu(), time.perf_counter()
    func()
    return time.perf_counter() - started, _cpu() - cpu


def with_pyav_lame(func: Callable[[], object]) -> Callable[[], object]:
    """`func` as it runs on a machine without libmp3lame: PyAV's own MP3 encoder."""

    def run() -> object:
        with mock.patch.object(lame, "library", return_value=None):
            return func()

    return run


def ffmpeg_cli(ffmpeg: str, source: Path, codec_args: list[str], out: Path) -> Callable[[], object]:
    command = [ffmpeg, "-v", "error", "-y", "-i", str(source), *codec_args, str(out)]
    return lambda: subprocess.run(command, check=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    audio_seconds = args.minutes * 60
    ffmpeg = ensure_ffmpeg()
    version = subprocess.run([ffmpeg, "-version"], capture_output=True, text=True, check=True)
    print(f"ffmpeg: {version.stdout.splitlines()[0]}")
    print(
        f"plyr's MP3 encoder: LAME {lame.version()} (the system's)"
        if lame.lame_available()
        else "plyr's MP3 encoder: PyAV's (no libmp3lame on this machine)"
    )
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        source = work / "source.aiff"
        make_aiff(source, args.minutes)
        print(
            f"source: {args.minutes:g} min AIFF, {source.stat().st_size / 1e6:.0f} MB, "
            f"{args.rounds} rounds"
        )
        pyav_dir = work / "pyav"
        pyav_dir.mkdir()
        runs: dict[str, Callable[[], object]] = {
            "plyr → mp3 320k": lambda: transcode(source, work, "mp3"),
            "ffmpeg CLI → mp3 320k": ffmpeg_cli(
                ffmpeg, source, ["-codec:a", "libmp3lame", "-b:a", "320k"], work / "x.mp3"
            ),
            "plyr → opus 160k": lambda: transcode(source, work, "opus"),
            "ffmpeg CLI → opus 160k": ffmpeg_cli(
                ffmpeg, source, ["-codec:a", "libopus", "-b:a", "160k"], work / "x.ogg"
            ),
            "plyr, PyAV's LAME → mp3 320k": with_pyav_lame(
                lambda: transcode(source, pyav_dir, "mp3")
            ),
            "plyr loudness (EBU R128)": lambda: integrated_loudness(source),
        }
        times: dict[str, list[tuple[float, float]]] = {label: [] for label in runs}
        for _ in range(args.rounds):
            for label, run in runs.items():
                times[label].append(timed(run))
    wall = {label: statistics.median(w for w, _ in got) for label, got in times.items()}
    cpu = {label: statistics.median(c for _, c in got) for label, got in times.items()}
    print(f"\n{'median of the rounds':34} {'wall s':>7} {'CPU s':>7} {'x real time':>12}")
    for label in runs:
        print(
            f"{label:34} {wall[label]:7.2f} {cpu[label]:7.2f} {audio_seconds / wall[label]:12.0f}"
        )
    print(f"\n{'plyr / ffmpeg CLI (speed)':34} {'wall':>7} {'CPU':>7}")
    for name, ours, target in (
        ("mp3 320k (the default)", "plyr → mp3 320k", "mp3 320k"),
        ("mp3 320k, PyAV's LAME (before)", "plyr, PyAV's LAME → mp3 320k", "mp3 320k"),
        ("opus 160k", "plyr → opus 160k", "opus 160k"),
    ):
        theirs = f"ffmpeg CLI → {target}"
        print(f"{name:34} {wall[theirs] / wall[ours]:7.2f} {cpu[theirs] / cpu[ours]:7.2f}")
    # The target: plyr's default (MP3) at >= 0.9x the CLI's speed, wall clock.
    speed = wall["ffmpeg CLI → mp3 320k"] / wall["plyr → mp3 320k"]
    verdict = "met" if speed >= 0.9 else "NOT met"
    print(f"\nissue 19 target: mp3 320k {speed:.2f}x the ffmpeg CLI; target >= 0.9: {verdict}")
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
