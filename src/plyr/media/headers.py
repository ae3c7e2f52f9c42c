"""What container headers announce, checked against what the file holds.

Headers say how long the tags in front of the audio are (ID3v2, FLAC metadata blocks), how
many bytes a RIFF/FORM file and its audio chunk have, and how many frames an MP3's
Xing/Info/VBRI header counted. A header that announces more than the file holds is a cut-off
upload; tags larger than ``MAX_TAG_BYTES`` are junk or a bomb. Each check reads a few
header bytes, never the audio.
"""

from __future__ import annotations

import os
from typing import BinaryIO, Final

from plyr.media.errors import CorruptFile, MetadataTooLarge

StrPath = str | os.PathLike[str]

# Tags before the audio may hold one cover as large as uploaded artwork may be (see
# plyr.media.artwork.MAX_ARTWORK_BYTES) plus text; beyond that they are junk or a bomb.
MAX_TAG_BYTES: Final = 32_000_000
# Real files carry a handful of FLAC metadata blocks or RIFF chunks before the audio.
_MAX_BLOCKS: Final = 1024
MAX_ID3_PADDING: Final = 64 * 1024

# MPEG audio: sample rates by version bits (0b11 MPEG-1, 0b10 MPEG-2, 0b00 MPEG-2.5).
_MPEG_RATES: Final = {3: (44100, 48000, 32000), 2: (22050, 24000, 16000), 0: (11025, 12000, 8000)}


def tags_too_large(size: int) -> MetadataTooLarge:
    return MetadataTooLarge(
        f"the tags are too large: more than {size / 1e6:.1f} MB before the audio "
        f"(at most {MAX_TAG_BYTES / 1e6:.0f} MB, enough for a cover and text)"
    )


def is_id3v2_header(b: bytes) -> bool:
    return (
        len(b) >= 10
        and b[:3] == b"ID3"
        and b[3] in (2, 3, 4)
        and b[4] != 0xFF
        and all(x < 0x80 for x in b[6:10])
    )


def id3_length(f: BinaryIO) -> int:
    """Bytes taken by the ID3v2 tags at the start (several may follow each other); raises
    ``MetadataTooLarge`` past MAX_TAG_BYTES."""
    offset = 0
    while True:
        f.seek(offset)
        block = f.read(10)
        if not is_id3v2_header(block):
            return offset
        size = (block[6] << 21) | (block[7] << 14) | (block[8] << 7) | block[9]
        offset += 10 + size + (10 if block[5] & 0x10 else 0)
        if offset > MAX_TAG_BYTES:
            raise tags_too_large(offset)


def audio_start(f: BinaryIO) -> int:
    """Where the audio starts after any ID3v2 tags and the zero padding some taggers add
    beyond the size they declare."""
    offset = id3_length(f)
    f.seek(offset)
    padding = f.read(MAX_ID3_PADDING)
    return offset + len(padding) - len(padding.lstrip(b"\x00"))


def check_flac_metadata(path: StrPath) -> None:
    """Walk the FLAC metadata blocks (4-byte headers) and refuse them past MAX_TAG_BYTES."""
    with open(path, "rb") as f:
        offset = audio_start(f) + 4  # after "fLaC"
        for _ in range(_MAX_BLOCKS):
            f.seek(offset)
            header = f.read(4)
            if len(header) < 4:
                return  # the decode check reports a file cut inside its metadata
            offset += 4 + int.from_bytes(header[1:4], "big")
            if offset > MAX_TAG_BYTES:
                raise tags_too_large(offset)
            if header[0] & 0x80:  # the last metadata block
                return
    raise MetadataTooLarge(f"the file has more than {_MAX_BLOCKS} metadata blocks")


def check_chunk_sizes(path: StrPath, head: bytes, *, little_endian: bool) -> None:
    """Refuse a WAV/AIFF shorter than its RIFF/FORM header, or its WAV `data` chunk, says.

    ffmpeg would quietly play what is there, so a cut would go unnoticed, and a data chunk
    claiming 4 GB in a small file would make the track last hours. Writers that didn't know
    the length (0, 0xFFFFFFFF, RF64's placeholder) are let through; the probe measures such
    files instead of trusting them.
    """
    if head[:4] not in (b"RIFF", b"FORM"):
        return  # RF64/BW64 keep the real sizes in their ds64 chunk
    actual = os.path.getsize(path)
    declared = int.from_bytes(head[4:8], "little" if little_endian else "big")
    if declared not in (0, 0xFFFFFFFF) and declared + 8 > actual + 1:  # + 1: a lost pad byte
        raise _truncated(declared + 8, actual, "")
    if head[:4] == b"RIFF":
        _check_wav_data_chunk(path, actual)


def _check_wav_data_chunk(path: StrPath, actual: int) -> None:
    with open(path, "rb") as f:
        offset = 12
        for _ in range(_MAX_BLOCKS):
            f.seek(offset)
            chunk = f.read(8)
            if len(chunk) < 8:
                return
            size = int.from_bytes(chunk[4:8], "little")
            if chunk[:4] == b"data":
                available = max(0, actual - offset - 8)
                if size not in (0, 0xFFFFFFFF) and size > available + 1:
                    raise _truncated(size, available, " of audio")
                return
            offset += 8 + size + (size & 1)


def _truncated(declared: int, actual: int, what: str) -> CorruptFile:
    return CorruptFile(
        f"the file is truncated: its header announces {declared:,} bytes{what} but it "
        f"holds {actual:,}"
    )


def is_mpeg_layer3_header(b: bytes) -> bool:
    """An MPEG-1/2/2.5 Layer III frame header (the frame sync plus sane fields)."""
    if len(b) < 4 or b[0] != 0xFF or (b[1] & 0xE0) != 0xE0:
        return False
    version = (b[1] >> 3) & 0b11  # 0b01 is reserved
    layer = (b[1] >> 1) & 0b11  # 0b01 is Layer III; 0b00 would be ADTS AAC
    bitrate_index = b[2] >> 4
    sample_rate_index = (b[2] >> 2) & 0b11
    return version != 0b01 and layer == 0b01 and bitrate_index != 0xF and sample_rate_index != 3


def mp3_declared_seconds(path: StrPath) -> float | None:
    """The length an MP3's Xing/Info or VBRI header counted (frames x samples per frame),
    or None when the first frame carries no such count (then nothing can be checked)."""
    with open(path, "rb") as f:
        f.seek(audio_start(f))
        frame = f.read(256)
    if not is_mpeg_layer3_header(frame[:4]):
        return None
    version = (frame[1] >> 3) & 0b11
    mono = frame[3] >> 6 == 0b11
    side_info = (17 if mono else 32) if version == 3 else (9 if mono else 17)
    frames: int | None = None
    xing = frame[4 + side_info : 4 + side_info + 12]
    if xing[:4] in (b"Xing", b"Info") and int.from_bytes(xing[4:8], "big") & 1:
        frames = int.from_bytes(xing[8:12], "big")
    elif frame[36:40] == b"VBRI":
        frames = int.from_bytes(frame[50:54], "big")
    if not frames:
        return None
    samples_per_frame = 1152 if version == 3 else 576
    rate = _MPEG_RATES[version][(frame[2] >> 2) & 0b11]
    return frames * samples_per_frame / rate
