"""Understanding what a member types where a tap was expected.

Workers type instead of tapping, without diacritics, in lower case, with typos:
"ky thuat" is the button "Giải pháp kỹ thuật", "quay lai" is "⬅️ Quay lại", "2" is
the second choice. Everything here works on folded text (see ``normalize_search``)
and on the labels of the buttons the member was shown, in every language.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from domain.parsing import normalize_search

# Longer texts are answers, never a typed tap; this also bounds the work below.
MAX_TYPED_CHOICE = 80
_NUMBER = re.compile(r"^\d{1,3}$")


class Intent(StrEnum):
    """A command word typed as text; it is never stored as an answer."""

    DONE = "done"
    BACK = "back"
    CANCEL = "cancel"
    SKIP = "skip"
    KEEP = "keep"
    # Leave the question for the main menu (the draft stays), as /cancel does.
    MENU = "menu"


# Folded words, in Vietnamese as people type it and in English.
_INTENTS: dict[str, Intent] = {
    **dict.fromkeys(("xong", "xong roi", "da xong", "xong nhe", "done", "finish", "finished",
                     "het", "het roi"), Intent.DONE),
    # "0" too: on a channel without buttons, the number before the first choice.
    **dict.fromkeys(("quay lai", "tro lai", "lui lai", "quay ve", "back", "go back",
                     "previous", "0"), Intent.BACK),
    **dict.fromkeys(("huy", "huy bo", "thoi", "dung lai", "cancel", "stop"), Intent.CANCEL),
    **dict.fromkeys(("menu", "main menu", "danh muc"), Intent.MENU),
    **dict.fromkeys(("bo qua", "skip", "khong can", "bo"), Intent.SKIP),
    **dict.fromkeys(("giu nguyen", "giu", "keep", "keep it", "giu lai"), Intent.KEEP),
}  # fmt: skip

YES_WORDS = frozenset({"co", "dung", "vang", "yes", "ok", "oke", "dong y", "u", "uh", "y"})
NO_WORDS = frozenset({"khong", "khong co", "ko", "k", "no", "n", "none", "sai", "khong phai"})


def fold(text: str) -> str:
    """Text as matched: lower case, no diacritics, no punctuation or emoji."""
    return normalize_search(text[: MAX_TYPED_CHOICE * 2])


def intent(text: str) -> Intent | None:
    """The command word ``text`` is, if it is one."""
    if len(text) > MAX_TYPED_CHOICE:
        return None
    return _INTENTS.get(fold(text))


def number(text: str) -> int | None:
    """A typed choice number ("2", " 3. "), if that is all the text is."""
    folded = fold(text)
    return int(folded) if _NUMBER.match(folded) else None


@dataclass(frozen=True, slots=True)
class Choice:
    """One button as the member may name it: its code and its label in each language."""

    code: str
    labels: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Match:
    """What typed text names: one code, several (ambiguous), or nothing."""

    code: str | None = None
    ambiguous: bool = False


def _one_edit(a: str, b: str) -> bool:
    """Whether ``a`` becomes ``b`` by at most one inserted, removed or changed letter."""
    if abs(len(a) - len(b)) > 1:
        return False
    if len(a) > len(b):
        a, b = b, a
    i = j = edits = 0
    while i < len(a) and j < len(b):
        if a[i] != b[j]:
            edits += 1
            if edits > 1:
                return False
            if len(a) == len(b):
                i += 1
            j += 1
            continue
        i += 1
        j += 1
    return edits + (len(b) - j) + (len(a) - i) <= 1


def _word_matches(typed: str, word: str) -> bool:
    if typed == word:
        return True
    if len(typed) >= 3 and word.startswith(typed):
        return True
    return len(typed) >= 4 and _one_edit(typed, word)


def _extra(typed: list[str], label: list[str], common: set[str]) -> int | None:
    """How many telling words of ``label`` the member did not type; None if a typed word
    is not in the label at all."""
    used: set[int] = set()
    for word in typed:
        index = next((i for i, w in enumerate(label) if i not in used and _word_matches(word, w)),
                     None)  # fmt: skip
        if index is None:
            return None
        used.add(index)
    return sum(1 for i, w in enumerate(label) if i not in used and w not in common)


def _scores(typed: list[str], labels: Sequence[str], codes: Sequence[str]) -> dict[str, int]:
    """For one language: each code whose label holds every typed word, with its extra."""
    words = [label.split() for label in labels]
    # Words in half the labels or more ("giải pháp") tell the choices apart less than
    # the rest, so "ky thuat" is "Giải pháp kỹ thuật" and "giai phap" is ambiguous.
    seen: dict[str, int] = {}
    for label_words in words:
        for word in set(label_words):
            seen[word] = seen.get(word, 0) + 1
    common = {word for word, count in seen.items() if count > 1 and 2 * count >= len(words)}
    scores: dict[str, int] = {}
    for code, label_words in zip(codes, words, strict=True):
        extra = _extra(typed, label_words, common) if label_words else None
        if extra is not None:
            scores[code] = min(extra, scores.get(code, extra))
    return scores


def match(text: str, choices: Sequence[Choice], *, exact: bool = False) -> Match:
    """The choice typed text names; ``exact`` asks for a whole label (at a question whose
    answer is typed, so that an answer is never taken for a tap)."""
    folded = fold(text)
    if not folded or len(text) > MAX_TYPED_CHOICE or not choices:
        return Match()
    whole = {c.code for c in choices if any(fold(label) == folded for label in c.labels)}
    if len(whole) == 1:
        return Match(whole.pop())
    if exact or whole:
        return Match(ambiguous=bool(whole))
    languages = max(len(c.labels) for c in choices)
    best: dict[str, int] = {}
    for index in range(languages):
        present = [c for c in choices if index < len(c.labels)]
        scores = _scores(folded.split(), [fold(c.labels[index]) for c in present],
                         [c.code for c in present])  # fmt: skip
        for code, extra in scores.items():
            best[code] = min(extra, best.get(code, extra))
    if not best:
        return Match()
    lowest = min(best.values())
    winners = [code for code, extra in best.items() if extra == lowest]
    return Match(winners[0]) if len(winners) == 1 else Match(ambiguous=True)
