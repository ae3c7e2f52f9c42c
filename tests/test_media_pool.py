"""The process pool: media work runs in worker processes, results and errors pickle."""

from __future__ import annotations

import asyncio
import pickle
import threading
from pathlib import Path

import pytest

from plyr.media import (
    AudioInfo,
    UnsupportedFormat,
    artwork_from_bytes,
    integrated_loudness,
    probe_audio,
    sniff_audio,
    transcode,
)
from plyr.media.pool import MediaPool
from tests.support.audio import make_text
from tests.support.media import (
    audio_files_fixture,  # noqa: F401 - the audio_files fixture
    cover_fixture,  # noqa: F401 - the cover fixture
)


def roundtrip(value: object) -> object:
    return pickle.loads(pickle.dumps(value))  # noqa: S301 (our own bytes)


def test_results_and_errors_pickle(audio_files: dict[str, Path], tmp_path: Path) -> None:
    info = probe_audio(audio_files["flac"])
    assert roundtrip(info) == info
    loudness = integrated_loudness(audio_files["flac"])
    assert roundtrip(loudness) == loudness
    art = artwork_from_bytes(info.cover or b"", info.cover_mime, tmp_path)
    assert roundtrip(art) == art
    error = roundtrip(UnsupportedFormat("nope"))
    assert isinstance(error, UnsupportedFormat)
    assert str(error) == "nope"


async def test_pool_runs_media_work_in_processes(
    audio_files: dict[str, Path], tmp_path: Path
) -> None:
    pool = MediaPool(max_workers=1)
    try:
        info = await pool.run(probe_audio, audio_files["aiff"])
        assert isinstance(info, AudioInfo)
        assert info.duration == pytest.approx(2.0)
        with pytest.raises(UnsupportedFormat, match="accepted"):
            await pool.run(sniff_audio, make_text(tmp_path / "notes.mp3"))
        reports: list[float] = []
        threads: set[int] = set()

        def report(fraction: float) -> None:
            reports.append(fraction)
            threads.add(threading.get_ident())

        out = await pool.run_with_progress(
            transcode, audio_files["aiff"], tmp_path, "opus", progress=report
        )
        assert out.suffix == ".opus"
        await asyncio.sleep(0.2)  # the last reports may trail the result
        assert reports
        assert reports == sorted(reports)
        assert threads == {threading.get_ident()}  # delivered on the event loop's thread
    finally:
        pool.shutdown()


def test_freed_memory_goes_back_to_the_system_on_glibc() -> None:
    """Processing calls it after each upload (bench/load.py measured the ratchet)."""
    import platform

    from plyr.media.memory import release_free_memory

    expected = platform.system() == "Linux" and platform.libc_ver()[0] == "glibc"
    assert release_free_memory() is expected


def test_the_arena_cap_applies_on_glibc_unless_the_operator_set_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import platform

    from plyr.media.memory import limit_arenas

    glibc = platform.system() == "Linux" and platform.libc_ver()[0] == "glibc"
    monkeypatch.delenv("MALLOC_ARENA_MAX", raising=False)
    assert limit_arenas() is glibc
    monkeypatch.setenv("MALLOC_ARENA_MAX", "4")
    assert limit_arenas() is False
