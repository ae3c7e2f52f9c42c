"""Audio whose waveform is known (a tone, then silence), and tracks for the waveform tests."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import av
import numpy as np

from plyr.db.models import PublishState, Track

MUXERS = {"wav": ("wav", "pcm_s16le"), "mp3": ("mp3", "libmp3lame"), "flac": ("flac", "flac")}


def tone_then_silence(path: Path, fmt: str, seconds: float = 6.0, rate: int = 44100) -> Path:
    """A 440 Hz tone at half scale for the first half, then silence, encoded with PyAV."""
    muxer, codec = MUXERS[fmt]
    total = round(seconds * rate)
    with av.open(str(path), "w", format=muxer) as out:
        stream = out.add_stream(codec, rate=rate, layout="stereo")
        pos = 0
        while pos < total:
            n = min(4096, total - pos)
            t = np.arange(pos, pos + n) / rate
            tone = 0.5 * np.sin(2 * np.pi * 440 * t) * (t < seconds / 2)
            frame = av.AudioFrame.from_ndarray(
                np.stack([tone, tone]).astype(np.float32), format="fltp", layout="stereo"
            )
            frame.sample_rate = rate
            frame.pts = pos
            out.mux(stream.encode(frame))
            pos += n
        out.mux(stream.encode(None))
    return path


def track_row(did: str, title: str, **fields: Any) -> Track:
    """A published track row (its media keys as given)."""
    values: dict[str, Any] = {
        "artist_did": did,
        "title": title,
        "artist_name": "waves",
        "file_type": "mp3",
        "content_hash": hashlib.sha256(f"{did} {title}".encode()).hexdigest(),
        "original_key": f"audio/{hashlib.sha256(title.encode()).hexdigest()[:12]}.mp3",
        "rkey": hashlib.sha256(title.encode()).hexdigest()[:13],
        "publish_state": PublishState.published,
        "atproto_uri": f"at://{did}/fm.plyr.track/{hashlib.sha256(title.encode()).hexdigest()[:13]}",
        "duration_seconds": 6,
    }
    values.update(fields)
    if values["publish_state"] != PublishState.published:
        values["atproto_uri"] = None
    return Track(**values)
