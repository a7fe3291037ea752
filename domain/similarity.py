"""How alike two initiatives are, on their titles and solutions as people type them.

Texts are folded first (lower case, no diacritics, đ as d, punctuation as spaces), so
"Gá cắt chỉ thừa" and "ga cat chi thua" are the same text. Two folded texts are then
compared as sets of word trigrams, the way PostgreSQL's pg_trgm does: every word padded
with two spaces before and one after, cut into its three-letter pieces; the score is
the share of pieces the two have in common (shared / all). Swapped words leave the set
as it was; a changed word changes only its own pieces. Both engines score with this
one function: their indexes only say which initiatives are worth scoring.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from domain.parsing import normalize_search
from domain.ports_similar import SimilarField

# Only the start of a long solution is compared: it says what the idea is, and a
# bounded text keeps the index and the scoring cheap.
SOLUTION_FOLDED_MAX = 400
TITLE_FOLDED_MAX = 200
# Input beyond this cannot reach the folded limits (folding only ever shortens text
# by a character or so per run of punctuation); it is not looked at.
_RAW_MAX = 4 * SOLUTION_FOLDED_MAX


def _cut(folded: str, limit: int) -> str:
    """The folded text up to ``limit`` characters, ending at a whole word."""
    if len(folded) <= limit:
        return folded
    head = folded[: limit + 1]
    space = head.rfind(" ")
    return (head[:space] if space > 0 else head[:limit]).strip()


def fold_for_match(text: str | None, limit: int = SOLUTION_FOLDED_MAX) -> str:
    """Text as it is matched: lower case, without diacritics or punctuation, single
    spaces, at most ``limit`` characters ending at a whole word."""
    if not text:
        return ""
    return _cut(normalize_search(text[:_RAW_MAX]), limit)


def fold_title(title: str | None) -> str:
    """A title as it is matched."""
    return fold_for_match(title, TITLE_FOLDED_MAX)


def fold_solution(solution: str | None) -> str:
    """The start of a solution as it is matched."""
    return fold_for_match(solution, SOLUTION_FOLDED_MAX)


def trigrams(folded: str) -> frozenset[str]:
    """The word trigrams of folded text, as pg_trgm makes them ("  g", " ga", "ga ")."""
    if not folded:
        return frozenset()
    # The words padded and joined leave three spaces between words; the pieces that
    # straddle two words (ending in two spaces) are not pg_trgm's and are dropped.
    padded = "  " + folded.replace(" ", "   ") + " "
    pieces = {padded[i : i + 3] for i in range(len(padded) - 2)}
    pieces.difference_update([word[-1] + "  " for word in folded.split()])
    pieces.discard("   ")
    return frozenset(pieces)


def jaccard(one: frozenset[str], other: frozenset[str]) -> float:
    """Shared pieces over all pieces: 1 for the same set, 0 when nothing is shared."""
    if not one or not other:
        return 0.0
    shared = len(one & other)
    return shared / (len(one) + len(other) - shared)


@dataclass(frozen=True, slots=True)
class Probe:
    """What an initiative is compared with, prepared once: the trigrams of its title
    and solution, each None when that answer is missing or not compared."""

    title: frozenset[str] | None
    solution: frozenset[str] | None

    @property
    def empty(self) -> bool:
        """Nothing to compare: nothing can be found."""
        return self.title is None and self.solution is None


def probe(title: str | None, solution: str | None, fields: Sequence[SimilarField]) -> Probe:
    """The query prepared for scoring: only the fields compared, only those given."""
    folded_title = fold_title(title) if "title" in fields else ""
    folded_solution = fold_solution(solution) if "solution" in fields else ""
    return Probe(trigrams(folded_title) or None, trigrams(folded_solution) or None)


# Below this, titles are about different things: their solutions are not compared
# (counted as nothing in common), which also spares comparing most solutions at all...
TITLE_FLOOR = 0.4
# ... unless the solutions are this alike: the same idea entered again under another
# title (a helper's second entry, the next line's copy) counts as alike as its solution.
SAME_SOLUTION = 0.8


def title_score(query: Probe, title: str) -> float | None:
    """How alike the titles are, None when titles are not compared."""
    return None if query.title is None else jaccard(query.title, trigrams(title))


def needs_solution(query: Probe, title_part: float | None) -> bool:
    """Whether the candidate's solution can change its score."""
    return query.solution is not None and (title_part is None or title_part >= TITLE_FLOOR)


def score(query: Probe, title: str, solution: str, title_part: float | None = None) -> float:
    """How alike a candidate (its folded title and solution) is to the query, 0 to 1:
    the mean of the titles' and the solutions' trigram similarity, the solutions
    counting only for titles at least ``TITLE_FLOOR`` alike and when both have one;
    when the query has only a title, only the title counts (``title_part``: the titles'
    similarity, when already known)."""
    if title_part is None:
        title_part = title_score(query, title)
    if query.solution is None or not solution:
        return title_part or 0.0
    solution_part = jaccard(query.solution, trigrams(solution))
    if title_part is None:
        return solution_part
    if solution_part >= SAME_SOLUTION:
        return max(solution_part, (title_part + solution_part) / 2)
    if title_part < TITLE_FLOOR:
        return title_part / 2
    return (title_part + solution_part) / 2


# Words this short say little about what an initiative is, and match inside most words;
# these say what nearly every initiative is (function words, the programme's verbs).
_KEY_WORD_MIN = 3
KEY_WORDS_MAX = 8
_COMMON = frozenset(
    """
    cho tai cua nhung cac mot bang voi khi tren duoi theo trong nham den viec
    cai tien thiet che tao ung dung giai phap sang kien nang cao hieu qua toi hoa
    hop lam moi
""".split()
)


def key_words(folded: str) -> list[str]:
    """The words of a folded title a candidate is first checked for: the longest ones
    (long words are the rare ones), at most ``KEY_WORDS_MAX``."""
    words = {word for word in folded.split()
             if len(word) >= _KEY_WORD_MIN and word not in _COMMON}  # fmt: skip
    return sorted(words, key=lambda word: (-len(word), word))[:KEY_WORDS_MAX]


def words_needed(key: Sequence[str], threshold: float) -> int:
    """How many of the key words a title must hold to be scored at all: a title sharing
    fewer words cannot share enough of the pieces to come near the threshold (with room
    for a changed word or two)."""
    if not key:
        return 0
    return max(1, math.ceil(len(key) * threshold) - 1)
