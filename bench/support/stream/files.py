"""The media files served: one of 8 MB (the whole-file and first-bytes workloads) and four
more for random ranges, each with unique content, readable by nginx's workers."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

MIB = 1024 * 1024
WHOLE_SIZE = 8 * MIB
OTHER_SIZES = (3 * MIB, 5 * MIB, 6 * MIB, 10 * MIB)


@dataclass(frozen=True)
class Files:
    whole: str  # key of the 8 MB file
    keys: list[str]
    sizes: list[int]


def make_files(media: Path) -> Files:
    rng_seed = 20240611
    keys, sizes = [], []
    for index, size in enumerate((WHOLE_SIZE, *OTHER_SIZES)):
        block = hashlib.sha256(f"{rng_seed}-{index}".encode()).digest()
        data = (block * (size // len(block) + 1))[:size]
        data = os.urandom(64) + data[64:]  # unique content, cheap to make
        digest = hashlib.sha256(data).hexdigest()
        key = f"audio/{digest[:2]}/{digest}.mp3"
        path = media / key
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        keys.append(key)
        sizes.append(size)
    for folder in [media, *media.rglob("*")]:
        folder.chmod(0o755 if folder.is_dir() else 0o644)
    return Files(whole=keys[0], keys=keys, sizes=sizes)
