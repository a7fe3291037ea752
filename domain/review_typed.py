"""A decision typed as words, for admins on a channel without buttons (or who prefer
typing): "duyet SK-000123", "tu choi SK-000123 <lý do>", "bo sung SK-123 <lý do>", or in
English "approve", "reject", "return". The verb may carry diacritics or not, in any case;
whatever follows the number is the reason or comment, kept as typed. The number must say
"SK": "tu choi 3 lan roi" is a sentence, not a decision on initiative 3."""

from __future__ import annotations

import re
from dataclasses import dataclass
from itertools import islice

from domain.model import Decision, parse_number
from domain.parsing import normalize_search

# Folded words that start a typed decision, longest first so "yeu cau bo sung" wins.
VERBS: tuple[tuple[tuple[str, ...], Decision], ...] = (
    (("yeu", "cau", "bo", "sung"), Decision.RETURN),
    (("tu", "choi"), Decision.REJECT),
    (("bo", "sung"), Decision.RETURN),
    (("duyet",), Decision.APPROVE),
    (("approve",), Decision.APPROVE),
    (("reject",), Decision.REJECT),
    (("return",), Decision.RETURN),
)
# A typed command is short: a verb, a number and a reason (which the use case bounds).
MAX_WORDS_BEFORE_REASON = 6
_WORD = re.compile(r"\S+")
# What may cling to the number or open the reason: "SK-000123:", "— trùng".
_PUNCTUATION = ":;,.-–—"


@dataclass(frozen=True, slots=True)
class TypedDecision:
    """A decision typed in words: on which initiative (None when no number followed the
    word), and the words after its number."""

    decision: Decision
    initiative: int | None
    reason: str | None


def parse(text: str) -> TypedDecision | None:
    """The decision ``text`` types, if it is one; anything else is not for review."""
    found = islice(_WORD.finditer(text), MAX_WORDS_BEFORE_REASON)
    words = [(match.group(), match.end()) for match in found]
    folded = [normalize_search(word) for word, _end in words]
    for verb, decision in VERBS:
        if tuple(folded[: len(verb)]) == verb:
            return _numbered(text, words, len(verb), decision)
    return None


def _numbered(
    text: str, words: list[tuple[str, int]], start: int, decision: Decision
) -> TypedDecision:
    """The number after the verb ("SK-000123", "SK123" or "SK 123"), then the reason."""
    for taken in (1, 2):
        number = "".join(word for word, _end in words[start : start + taken])
        if not number.lower().startswith("sk"):
            break
        initiative = parse_number(number.rstrip(_PUNCTUATION))
        if initiative is not None and start + taken <= len(words):
            end = words[start + taken - 1][1]
            reason = text[end:].strip().lstrip(_PUNCTUATION).strip()
            return TypedDecision(decision, initiative, reason or None)
    return TypedDecision(decision, None, None)
