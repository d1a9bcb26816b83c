"""Lettered footnotes as GRADEpro writes them: a, b, ... z, aa, ab ..., one letter per distinct text."""

from __future__ import annotations

import string
from collections.abc import Callable, Iterable


def letter(index: int) -> str:
    """0 -> "a", 25 -> "z", 26 -> "aa": bijective base 26, so letters never run out."""
    out = ""
    n = index + 1
    while n:
        n, rem = divmod(n - 1, 26)
        out = string.ascii_lowercase[rem] + out
    return out


class Lettering:
    """Hands out letters in order of first appearance; the same text gets the same letter again."""

    def __init__(self, spell: Callable[[str], str] | None = None) -> None:
        self._letters: dict[str, str] = {}
        self._spell = spell  # the journal style's spelling of the texts

    def __call__(self, text: str) -> str:
        text = self._spell(text) if self._spell else text
        if text not in self._letters:
            self._letters[text] = letter(len(self._letters))
        return self._letters[text]

    def many(self, texts: Iterable[str]) -> list[str]:
        return [self(t) for t in texts]

    def items(self) -> list[tuple[str, str]]:
        """(text, letter) pairs in letter order."""
        return list(self._letters.items())

    def notes(self) -> list[dict[str, str]]:
        """The footnotes in letter order, as JSON-ready rows."""
        return [{"letter": let, "text": text} for text, let in self._letters.items()]
