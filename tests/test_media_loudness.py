"""Loudness: the BS.1770 meter, its agreement with references and ffmpeg, playback gain."""

from __future__ import annotations

import itertools
import math
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from plyr.media import Loudness, integrated_loudness, playback_gain_db
from plyr.media.loudness import LoudnessMeter, channel_weights, k_weighting
from tests.support.audio import make_audio


def sine(
    rate: int,
    amplitudes: list[float],
    seconds: float = 10.0,
    freq: float = 997.0,
    phase: float = 0.0,
) -> np.ndarray:
    t = np.arange(round(rate * seconds)) / rate
    return np.stack([a * np.sin(2 * np.pi * freq * t + phase) for a in amplitudes])


def measure(
    samples: np.ndarray, rate: int, chunk: int = 10_000, weights: list[float] | None = None
):
    meter = LoudnessMeter(rate, weights or [1.0] * samples.shape[0])
    for start in range(0, samples.shape[1], chunk):
        meter.add(samples[:, start : start + chunk])
    return meter.result()


def test_k_weighting_matches_the_48k_table_of_bs1770() -> None:
    shelf, high_pass = k_weighting(48000)
    assert shelf == pytest.approx(
        (
            1.53512485958697,
            -2.69169618940638,
            1.19839281085285,
            -1.69065929318241,
            0.73248077421585,
        ),
        abs=1e-9,
    )
    assert high_pass == pytest.approx(
        (1.0, -2.0, 1.0, -1.99004745483398, 0.99007225036621), abs=1e-9
    )


@pytest.mark.parametrize("rate", [48000, 44100])
def test_reference_tones(rate: int) -> None:
    # BS.1770: a 0 dBFS 997 Hz sine in one front channel reads -3.01 LKFS.
    assert measure(sine(rate, [1.0, 0.0]), rate).lufs == pytest.approx(-3.01, abs=0.1)
    assert measure(sine(rate, [0.1, 0.0]), rate).lufs == pytest.approx(-23.01, abs=0.1)
    # EBU Tech 3341 case 1: -23 dBFS in both channels reads -23.0 LUFS.
    assert measure(sine(rate, [10 ** (-23 / 20)] * 2), rate).lufs == pytest.approx(-23.0, abs=0.1)
    assert measure(sine(rate, [1.0, 1.0]), rate).lufs == pytest.approx(0.0, abs=0.1)


def test_reference_tones_from_files(tmp_path: Path) -> None:
    left = make_audio(tmp_path / "left", "wav", 5.0, 997, 48000, amplitudes=[1.0, 0.0], pcm="f32")
    assert integrated_loudness(left).lufs == pytest.approx(-3.01, abs=0.02)
    quiet = make_audio(tmp_path / "quiet", "flac", 5.0, 997, 44100, amplitudes=[0.1, 0.0])
    result = integrated_loudness(quiet)
    assert result.lufs == pytest.approx(-23.01, abs=0.1)
    assert result.sample_peak_dbfs == pytest.approx(-20.0, abs=0.01)
    mono = make_audio(tmp_path / "mono", "wav", 5.0, 997, 48000, channels=1, amplitude=0.1)
    assert integrated_loudness(mono, dual_mono=False).lufs == pytest.approx(-23.01, abs=0.05)
    assert integrated_loudness(mono).lufs == pytest.approx(-20.0, abs=0.05)


def test_silence_and_short_files() -> None:
    silent = measure(np.zeros((2, 48000 * 2)), 48000)
    assert silent.lufs == -math.inf
    assert silent.true_peak_dbtp == -math.inf
    assert playback_gain_db(silent.lufs, peak_dbfs=silent.true_peak_dbtp) == 0.0
    assert measure(sine(48000, [0.5, 0.5], seconds=0.3), 48000).lufs == -math.inf


def test_true_peak_finds_the_peak_between_samples() -> None:
    # fs/4 at 45°: every sample is at ±0.707, the waveform peaks at 1.0.
    result = measure(sine(48000, [1.0, 1.0], seconds=2, freq=12000, phase=math.pi / 4), 48000)
    assert result.sample_peak_dbfs == pytest.approx(-3.01, abs=0.01)
    assert result.true_peak_dbtp == pytest.approx(0.0, abs=0.2)


def test_surround_channels_weigh_more() -> None:
    weights = channel_weights(["FL", "FR", "FC", "LFE", "SL", "SR"])
    assert weights == [1.0, 1.0, 1.0, 0.0, 1.41, 1.41]
    front = measure(sine(48000, [0.1, 0, 0, 0, 0, 0], 3), 48000, weights=weights).lufs
    side = measure(sine(48000, [0, 0, 0, 0, 0.1, 0], 3), 48000, weights=weights).lufs
    lfe = measure(sine(48000, [0, 0, 0, 0.5, 0, 0], 3), 48000, weights=weights).lufs
    assert side - front == pytest.approx(10 * math.log10(1.41), abs=0.001)
    assert lfe == -math.inf


def gating_test_signal(rate: int) -> np.ndarray:
    """Noise and tones at levels that exercise both gates, different in each channel."""
    rng = np.random.default_rng(5)
    parts = [
        rng.standard_normal((2, 4 * rate)) * [[0.1], [0.05]],  # loud
        np.zeros((2, 2 * rate)),  # below the absolute gate
        sine(rate, [0.003, 0.003], seconds=3, freq=300),  # below the relative gate
        rng.standard_normal((2, 3 * rate)) * [[0.25], [0.2]] + sine(rate, [0.2, 0], 3, 60),
    ]
    return np.concatenate(parts, axis=1)


def reference_loudness(samples: np.ndarray, rate: int) -> float:
    """BS.1770 done plainly: ffmpeg's biquad filters (an IIR in C) and whole-array gating."""
    graph = av.filter.Graph()
    source = graph.add_abuffer(
        sample_rate=rate, format="dblp", layout="stereo", time_base=Fraction(1, rate)
    )
    nodes = [source]
    for f in k_weighting(rate):
        coefficients = dict(b0=f.b0, b1=f.b1, b2=f.b2, a0=1.0, a1=f.a1, a2=f.a2)
        nodes.append(
            graph.add("biquad", **{k: repr(v) for k, v in coefficients.items()}, precision="f64")
        )
    nodes.append(graph.add("abuffersink"))
    for a, b in itertools.pairwise(nodes):
        a.link_to(b)
    graph.configure()
    frame = av.AudioFrame.from_ndarray(
        np.ascontiguousarray(samples), format="dblp", layout="stereo"
    )
    frame.sample_rate = rate
    frame.pts = 0
    graph.push(frame)
    graph.push(None)
    out = []
    while True:
        try:
            out.append(graph.pull().to_ndarray())
        except (av.BlockingIOError, av.EOFError):
            break
    filtered = np.concatenate(out, axis=1)
    block, step = round(0.4 * rate), round(0.1 * rate)
    powers = np.array(
        [
            (filtered[:, s : s + block] ** 2).mean(axis=1).sum()
            for s in range(0, filtered.shape[1] - block + 1, step)
        ]
    )
    loudness = -0.691 + 10 * np.log10(np.maximum(powers, 1e-300))
    gated = powers[loudness > -70]
    relative = -0.691 + 10 * np.log10(gated.mean()) - 10
    return float(-0.691 + 10 * np.log10(powers[(loudness > -70) & (loudness > relative)].mean()))


@pytest.mark.parametrize("rate", [44100, 48000])
def test_meter_matches_a_plain_reference(rate: int) -> None:
    samples = gating_test_signal(rate)
    expected = reference_loudness(samples, rate)
    # Odd chunk sizes exercise the streaming boundaries.
    assert measure(samples, rate, chunk=7919).lufs == pytest.approx(expected, abs=1e-6)
    assert measure(samples, rate, chunk=100_000).lufs == pytest.approx(expected, abs=1e-6)


def test_file_measurement_agrees_with_ffmpeg_ebur128(tmp_path: Path) -> None:
    rate = 48000
    samples = gating_test_signal(rate).astype(np.float32)
    path = tmp_path / "signal.wav"
    with av.open(str(path), "w", format="wav") as out:
        stream = out.add_stream("pcm_f32le", rate=rate, layout="stereo")
        frame = av.AudioFrame.from_ndarray(samples, format="fltp", layout="stereo")
        frame.sample_rate = rate
        out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    ours = integrated_loudness(path)
    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        graph = av.filter.Graph()
        source = graph.add_abuffer(template=stream)
        meter = graph.add("ebur128", metadata="1")
        sink = graph.add("abuffersink")
        source.link_to(meter)
        meter.link_to(sink)
        graph.configure()
        last = None
        for frame in container.decode(stream):
            graph.push(frame)
            while True:
                try:
                    last = graph.pull()
                except (av.BlockingIOError, av.EOFError):
                    break
    assert last is not None
    assert ours.lufs == pytest.approx(float(last.metadata["lavfi.r128.I"]), abs=0.05)


@pytest.mark.parametrize(
    ("lufs", "peak", "expected"),
    [
        (-14.0, -3.0, 0.0),
        (-10.0, -0.1, -4.0),  # cuts are never limited
        (-30.0, -20.0, 6.0),  # boost capped at +6 dB
        (-30.0, None, 6.0),
        (-18.0, -2.5, 1.5),  # boost stops at the -1 dBFS ceiling
        (-18.0, -0.5, 0.0),  # already above the ceiling: no boost at all
        (-math.inf, -math.inf, 0.0),
    ],
)
def test_playback_gain(lufs: float, peak: float | None, expected: float) -> None:
    assert playback_gain_db(lufs, peak_dbfs=peak) == expected


def test_playback_gain_from_a_measurement() -> None:
    loud = Loudness(lufs=-18.0, true_peak_dbtp=-2.5, sample_peak_dbfs=-2.6)
    assert playback_gain_db(loud) == 1.5
    assert playback_gain_db(loud, peak_dbfs=-10.0) == 4.0


def test_playback_gain_targets() -> None:
    assert playback_gain_db(-20.0, target=-16.0, peak_dbfs=-12.0) == 4.0
    assert playback_gain_db(-20.0, target=-14.0, max_boost=3.0) == 3.0
