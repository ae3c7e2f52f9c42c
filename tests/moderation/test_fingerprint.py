"""Chromaprint fingerprints of real audio files, and reading the files fpcalc writes."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import numpy as np
import pytest

from plyr.media import fingerprint as fingerprint_module
from plyr.media.errors import CorruptFile
from plyr.media.fingerprint import (
    ENGINE,
    ITEM_SECONDS,
    Fingerprint,
    FingerprintFileError,
    fingerprint_file,
    parse_fingerprint_file,
)
from plyr.media.sniff import sniff_audio
from tests.moderation.fingerprint_audio import Music, music_fixture, write_audio  # noqa: F401
from tests.support.audio import make_garbage_after_header, make_truncated


def fpcalc(*args: str | Path) -> str:
    return subprocess.run(
        ["fpcalc", "-length", "0", *map(str, args)], capture_output=True, text=True, check=False
    ).stdout


def bit_error_rate(a: np.ndarray, b: np.ndarray) -> float:
    n = min(len(a), len(b))
    return float(np.bitwise_count(a[:n] ^ b[:n]).mean() / 32)


def test_fingerprint_of_a_file(music: Music) -> None:
    fp = fingerprint_file(music.reference)
    assert fp.engine == ENGINE
    assert fp.duration == pytest.approx(70.0, abs=0.05)
    # one value per ~0.124 s, minus Chromaprint's filter context at the end
    assert 70 / ITEM_SECONDS - 30 < len(fp) < 70 / ITEM_SECONDS
    assert fp.values.dtype == np.uint32
    # the same values fpcalc (its own decoder and resampler) computes, to a few bits
    reference = parse_fingerprint_file(fpcalc("-raw", music.reference))[0].fingerprint
    assert abs(len(reference) - len(fp)) <= 2
    assert bit_error_rate(fp.values, reference.values) < 0.03
    # different music is far apart
    other = fingerprint_file(music.piece("distinct"))
    assert bit_error_rate(fp.values, other.values) > 0.3


def test_pcm_reaches_chromaprint_in_bounded_chunks(music: Music) -> None:
    sizes = [
        len(chunk)
        for chunk in fingerprint_module._pcm_chunks(music.reference, sniff_audio(music.reference))
    ]
    assert len(sizes) >= 6  # 70 s: never the whole PCM at once
    assert max(sizes) < 2 * 11025 * 11  # ~10 s of mono s16 each
    assert sum(sizes) == pytest.approx(70 * 11025 * 2, rel=0.001)


def test_bytes_round_trip(music: Music) -> None:
    fp = fingerprint_file(music.piece("distinct"))
    data = fp.to_bytes()
    assert len(data) == 4 * len(fp)
    assert data[:4] == int(fp.values[0]).to_bytes(4, "little")
    back = Fingerprint.from_bytes(data, fp.duration)
    assert back == fp
    assert back != Fingerprint.from_bytes(data[:-4], fp.duration)
    with pytest.raises(ValueError, match="4-byte"):
        Fingerprint.from_bytes(data[:-1], fp.duration)


def test_fpcalc_plain_raw_and_json_give_the_same_fingerprint(music: Music) -> None:
    path = music.piece("same-key")
    raw = parse_fingerprint_file(fpcalc("-raw", path))
    plain = parse_fingerprint_file(fpcalc(path))
    as_json = parse_fingerprint_file(fpcalc("-json", path))
    raw_json = parse_fingerprint_file(fpcalc("-json", "-raw", path))
    signed = parse_fingerprint_file(fpcalc("-raw", "-signed", path))
    entries = [raw[0], plain[0], as_json[0], raw_json[0], signed[0]]
    assert all(len(found) == 1 for found in (raw, plain, as_json, raw_json, signed))
    for entry in entries:
        assert entry.fingerprint == Fingerprint(
            raw[0].fingerprint.values, entry.fingerprint.duration
        )
        assert entry.fingerprint.duration == pytest.approx(40.0, abs=0.1)
    # our compressed form is fpcalc's plain one, character for character
    compressed = fpcalc(path).split("FINGERPRINT=", 1)[1].strip()
    assert raw[0].fingerprint.compressed() == compressed
    # and what we compute from the audio is close to it
    ours = fingerprint_file(path)
    assert bit_error_rate(ours.values, raw[0].fingerprint.values) < 0.03


def test_several_files_in_one_fingerprint_file(music: Music) -> None:
    # This fpcalc (1.5.1 with FFmpeg 5) stops after its first file, so the output of
    # several files is put together here the way fpcalc prints it: FILE= before each.
    first, second = music.piece("distinct"), music.piece("same-chords")
    plain = "".join(f"FILE={p}\n{fpcalc(p)}\n" for p in (first, second))
    raw = "".join(f"FILE={p}\n{fpcalc('-raw', p)}" for p in (first, second))
    lines = "".join(
        json.dumps({**json.loads(fpcalc("-json", p)), "file": str(p)}) + "\n"
        for p in (first, second)
    )
    as_list = json.dumps([json.loads(line) for line in lines.splitlines()])
    expected = [fingerprint_file(first), fingerprint_file(second)]
    for text in (plain, raw, lines, as_list):
        entries = parse_fingerprint_file(text)
        assert [e.source for e in entries] == [str(first), str(second)]
        for entry, ours in zip(entries, expected, strict=True):
            assert bit_error_rate(entry.fingerprint.values, ours.values) < 0.03
    # without FILE= lines, each DURATION= starts the next entry
    bare = parse_fingerprint_file(fpcalc(first) + fpcalc(second))
    assert [e.source for e in bare] == [None, None]
    assert len(bare[1].fingerprint) == len(expected[1]) or len(bare) == 2


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "empty"),
        ("hello world", "line 1: expected NAME=value"),
        ("DURATION=12\n", "entry 1: no fingerprint"),
        ("FINGERPRINT=1,2,3\n", "entry 1: a positive duration"),
        ("DURATION=ten\nFINGERPRINT=1,2,3\n", "not a number"),
        ("DURATION=10\nFINGERPRINT=AQAA!!not-base64\n", "not fpcalc's base64"),
        ("DURATION=10\nFINGERPRINT=AQADtMmUaEkSRZEGAP8\n", "can't be decoded"),
        ("DURATION=10\nFINGERPRINT=1,2,99999999999\n", "out of the 32-bit range"),
        ('{"duration": 10, "fingerprint": [1, "x"]}', "non-integer"),
        ('{"duration": 10, "fingerprint": [1, 2]}\n{"duration": 3', "JSON can't be read"),
        ("[1, 2]", "expected an object"),
    ],
)
def test_bad_fingerprint_files_are_refused_with_a_reason(text: str, reason: str) -> None:
    with pytest.raises(FingerprintFileError, match=reason):
        parse_fingerprint_file(text)


def test_corrupt_audio_raises_the_permanent_media_error(music: Music, tmp_path: Path) -> None:
    source = music.piece("distinct")
    damaged = make_garbage_after_header(source, tmp_path / "damaged.flac", header=8192)
    truncated = make_truncated(source, tmp_path / "truncated.flac", keep=4000)
    for path in (damaged, truncated):
        with pytest.raises(CorruptFile):
            fingerprint_file(path)
    short = tmp_path / "short.flac"
    write_audio(short, music.samples["distinct"][: 44100 * 2])
    with pytest.raises(CorruptFile, match="too short"):
        fingerprint_file(short)
