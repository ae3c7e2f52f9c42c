"""The local matcher over real generated music: copies match with their ranges, other music
(same key and tempo included) does not, and the index adds, replaces and discards."""

from __future__ import annotations

from pathlib import Path

import httpx
import numpy as np
import pytest

from plyr.config import Settings
from plyr.media.fingerprint import Fingerprint, fingerprint_file
from plyr.moderation.acoustid import AcoustIdMatcher, matcher_for
from plyr.moderation.matching import FingerprintIndex, LocalMatcher, Match, _selected
from tests.moderation.fingerprint_audio import (  # noqa: F401 - fixtures
    RATE,
    TRANSFORMS,
    Music,
    copies_fixture,
    music_fixture,
    write_audio,
)

THRESHOLD = Settings.model_fields["moderation_threshold"].default


@pytest.fixture(scope="module")
def prints(music: Music) -> dict[str, Fingerprint]:
    return {name: fingerprint_file(music.piece(name)) for name in music.samples}


@pytest.fixture(scope="module")
def index(prints: dict[str, Fingerprint]) -> FingerprintIndex:
    """The reference and two pieces of other keys and tempos as known works."""
    built = FingerprintIndex()
    built.add("work:1", prints["reference"])
    built.add("work:2", prints["distinct"])
    return built


def only(matches: list[Match], key: str) -> Match:
    assert [m.key for m in matches] == [key], matches
    return matches[0]


@pytest.mark.parametrize("transform", list(TRANSFORMS))
def test_a_transformed_copy_matches_with_its_ranges(
    transform: str, copies: dict[str, Path], index: FingerprintIndex
) -> None:
    fp = fingerprint_file(copies[transform])
    match = only(index.search(fp, min_score=THRESHOLD), "work:1")
    assert match.score >= 90
    shift = 15.0 if transform == "cut-15s" else 0.0
    for r in match.ranges:
        assert r.matched_start - r.start == pytest.approx(shift, abs=0.3)
        assert r.matched_end - r.end == pytest.approx(shift, abs=0.3)
    covered = sum(r.end - r.start for r in match.ranges)
    assert covered >= 0.9 * (fp.duration - 3)  # all but Chromaprint's context at the end
    assert match.ranges[0].start <= 1.0
    assert match.ranges[-1].matched_end <= 70.1
    assert match.external is None


@pytest.mark.parametrize("name", ["same-chords", "same-key"])
def test_music_in_the_same_key_and_tempo_does_not_match(
    name: str, prints: dict[str, Fingerprint], index: FingerprintIndex
) -> None:
    assert index.search(prints[name], min_score=1) == []


def test_shared_silence_is_no_match(music: Music, tmp_path: Path) -> None:
    # Silence (and quiet hiss) fingerprints as one value repeated, the same in every track.
    quiet = np.zeros(20 * RATE)
    one = write_audio(tmp_path / "one.flac", np.concatenate([music.samples["same-key"], quiet]))
    rng = np.random.default_rng(3)
    hiss = rng.standard_normal(20 * RATE) * 1e-4
    two = write_audio(tmp_path / "two.flac", np.concatenate([hiss, music.samples["distinct"]]))
    built = FingerprintIndex()
    built.add("work:1", fingerprint_file(one))
    assert built.search(fingerprint_file(two), min_score=1) == []
    assert only(built.search(fingerprint_file(one), min_score=1), "work:1").score == 100


def test_a_long_shared_held_value_is_no_match() -> None:
    # 25 s of one value (what silence gives) after unrelated values, on both sides; the
    # value is one the index keeps, so it would vote for an offset if it counted.
    rng = np.random.default_rng(8)
    held = next(v for v in range(1, 10_000) if len(_selected(np.array([v], np.uint32))[0]))
    ones = np.full(200, held, np.uint32)
    mine = np.concatenate([rng.integers(0, 2**32, 300, np.uint32), ones])
    theirs = np.concatenate([rng.integers(0, 2**32, 250, np.uint32), ones])
    built = FingerprintIndex()
    built.add("work:1", Fingerprint(theirs, 55.7))
    assert built.search(Fingerprint(mine, 61.9), min_score=1) == []


def test_a_partial_copy_is_found_with_its_range(
    prints: dict[str, Fingerprint], index: FingerprintIndex
) -> None:
    # 15 s of "distinct", then the reference's seconds 5-65
    matches = index.search(prints["partial"], min_score=THRESHOLD)
    found = {m.key: m for m in matches}
    reference = found["work:1"]
    assert reference.score >= THRESHOLD
    (r,) = reference.ranges
    assert r.start == pytest.approx(15.0, abs=1.5)
    assert r.end == pytest.approx(75.0, abs=3.5)
    assert r.matched_start == pytest.approx(5.0, abs=1.5)
    assert r.matched_start - r.start == pytest.approx(-10.0, abs=0.3)
    # its first 15 s are "distinct" itself, from its start: also found, at offset 0
    if "work:2" in found:
        (d,) = found["work:2"].ranges
        assert d.start == pytest.approx(0.0, abs=0.5)
        assert d.end <= 16.0


def test_add_replace_discard_and_exclude(prints: dict[str, Fingerprint]) -> None:
    built = FingerprintIndex()
    assert len(built) == 0
    assert built.search(prints["reference"], min_score=1) == []
    built.add("track:7", prints["same-key"])
    built.compact()  # main arrays; what follows lands in the delta
    built.add("work:1", prints["reference"])
    assert len(built) == 2
    assert "work:1" in built
    assert "work:9" not in built
    assert only(built.search(prints["reference"], min_score=THRESHOLD), "work:1").score == 100
    assert only(built.search(prints["same-key"], min_score=THRESHOLD), "track:7").score == 100
    assert built.search(prints["reference"], min_score=1, exclude=["work:1"]) == []

    built.discard("work:1")
    built.discard("work:1")  # twice: nothing happens
    assert "work:1" not in built
    assert len(built) == 1
    assert built.search(prints["reference"], min_score=1) == []
    assert only(built.search(prints["same-key"], min_score=1), "track:7").score == 100

    # the same key again with another fingerprint replaces the first
    built.add("track:7", prints["distinct"])
    assert len(built) == 1
    assert built.search(prints["same-key"], min_score=1) == []
    assert only(built.search(prints["distinct"], min_score=1), "track:7").score == 100
    built.compact()  # dead postings dropped: still the same answers
    assert built.search(prints["same-key"], min_score=1) == []
    assert built.nbytes > 0


async def test_local_matcher_searches_off_the_event_loop(
    prints: dict[str, Fingerprint], index: FingerprintIndex
) -> None:
    matcher = LocalMatcher(index)
    assert matcher.name == "chromaprint"
    found = await matcher.find(prints["reference"], min_score=THRESHOLD)
    assert [m.key for m in found] == ["work:1"]
    assert await matcher.find(prints["reference"], exclude={"work:1"}, min_score=1) == []


async def test_matcher_for_follows_the_settings(index: FingerprintIndex) -> None:
    async with httpx.AsyncClient() as http:
        local = Settings(_env_file=None)  # type: ignore[call-arg]
        assert isinstance(matcher_for(local, index, http), LocalMatcher)
        remote = Settings(  # type: ignore[call-arg]
            _env_file=None, moderation_matcher="acoustid", acoustid_api_key="k3y"
        )
        assert isinstance(matcher_for(remote, index, http), AcoustIdMatcher)
        keyless = Settings(_env_file=None, moderation_matcher="acoustid")  # type: ignore[call-arg]
        with pytest.raises(ValueError, match="ACOUSTID_API_KEY"):
            matcher_for(keyless, index, http)
