"""Made-up words, titles and people's names, built from syllables and a few real words."""

from __future__ import annotations

import random
from dataclasses import dataclass, field


def words(text: str) -> list[str]:
    return text.split()


ONSETS = words("b c d f g h j k l m n p r s t v w y z br cr dr fl gr kr pl st tr sh ch th")
VOWELS = ["a", "e", "i", "o", "u", "a", "e", "i", "o", "ai", "ea", "ou", "y"]
CODAS = ["", "", "", "n", "r", "l", "s", "x", "m", "nd", "rk", "st", "th"]
LINKS = ["of", "the", "in", "and", "for", "to", "on", "with", "under", "after"]
REAL_WORDS = words(
    "night light blue dream love echo river summer winter ghost heart city rain gold fire "
    "glass signal static paper ocean velvet neon midnight morning lost slow electric wild "
    "silver shadow garden machine tape memory stars moon"
)


@dataclass
class Names:
    rng: random.Random
    used_handles: set[str] = field(default_factory=set)

    def word(self, syllables: int | None = None) -> str:
        count = syllables or self.rng.choice((1, 2, 2, 2, 3, 3))
        return "".join(
            self.rng.choice(ONSETS) + self.rng.choice(VOWELS) + self.rng.choice(CODAS)
            for _ in range(count)
        )

    def any_word(self) -> str:
        return self.rng.choice(REAL_WORDS) if self.rng.random() < 0.35 else self.word()

    def title(self) -> str:
        shape = self.rng.random()
        if shape < 0.35:
            return self.any_word().capitalize()
        if shape < 0.7:
            return f"{self.any_word().capitalize()} {self.any_word()}"
        if shape < 0.9:
            return (
                f"{self.any_word().capitalize()} {self.rng.choice(LINKS)} {self.any_word()}".strip()
            )
        words = [self.any_word() for _ in range(self.rng.randint(3, 5))]
        return " ".join(words).capitalize()

    def person(self) -> tuple[str, str]:
        """(handle, display name) — a person's name or a project's."""
        first, last = self.word(2), self.word(self.rng.choice((1, 2, 3)))
        if self.rng.random() < 0.6:
            display = f"{first.capitalize()} {last.capitalize()}"
            stem = f"{first}{last}" if self.rng.random() < 0.5 else first
        else:
            display = self.rng.choice(("the ", "", "", "dj ")) + f"{first} {self.any_word()}"
            stem = display.replace(" ", "")
        handle = f"{stem[:20]}.bsky.social"
        while handle in self.used_handles:
            handle = f"{stem[:16]}{self.rng.randint(1, 9999)}.bsky.social"
        self.used_handles.add(handle)
        return handle, display
