"""Parsing of what people type: amounts, dates, co-authors, search words and free text.

Everything here is channel-free: it takes the typed string and either returns a
clean value or raises :class:`InputError` whose text says, kindly, how to fix it.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, localcontext

from domain.errors import InputError
from domain.text import Day, Money, Percent, Text, _

__all__ = [
    "EARLIEST_DAY",
    "MAX_BENEFIT_VND",
    "MAX_COAUTHORS",
    "TEXT_LIMIT",
    "TITLE_LIMIT",
    "CoauthorInput",
    "check_coauthor_total",
    "clean_text",
    "normalize_search",
    "parse_amount",
    "parse_coauthors",
    "parse_day",
    "search_terms",
]

MAX_BENEFIT_VND = 10**15
EARLIEST_DAY = dt.date(1950, 1, 1)
MAX_COAUTHORS = 20
TITLE_LIMIT = 200
TEXT_LIMIT = 4000

NAME_MIN = 2
NAME_MAX = 100


# ---------------------------------------------------------------------------
# Search normalisation
# ---------------------------------------------------------------------------

_NON_ALNUM = re.compile(r"[\W_]+")
# A search is a few words of a name. Longer input is cut here, once for every search, so
# SQL gets short patterns (SQLite refuses a LIKE pattern over 50.000 bytes).
SEARCH_INPUT_MAX = 400
SEARCH_TERMS_MAX = 8
SEARCH_TERM_MAX = 40


def _fold(text: str) -> str:
    """Lowercase, turn đ into d and drop all combining marks."""
    lowered = text.lower().replace("đ", "d")
    decomposed = unicodedata.normalize("NFD", lowered)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def normalize_search(text: str) -> str:
    """Fold text for diacritics-insensitive matching: "LĐLĐ tỉnh Hóa" -> "ldld tinh hoa"."""
    return _NON_ALNUM.sub(" ", _fold(text)).strip()


def search_terms(text: str) -> list[str]:
    """Return the normalised words of a search query, once each, in order; a few words
    of bounded length, whatever was typed."""
    words = normalize_search(text[:SEARCH_INPUT_MAX]).split()
    return list(dict.fromkeys(word[:SEARCH_TERM_MAX] for word in words))[:SEARCH_TERMS_MAX]


# ---------------------------------------------------------------------------
# Amounts
# ---------------------------------------------------------------------------

_UNKNOWN = frozenset(
    {
        "khong xac dinh",
        "chua xac dinh",
        "khong ro",
        "chua ro",
        "khong biet",
        "chua biet",
        "unknown",
        "cannot estimate",
        "dont know",
        "do not know",
        "not known",
    }
)
_UNITS: dict[str, int] = {
    "ty": 10**9,
    "ti": 10**9,
    "trieu": 10**6,
    "tr": 10**6,
    "nghin": 10**3,
    "ngan": 10**3,
    "k": 10**3,
    # English, in either interface language: "1.5 billion", "200m", "50 thousand".
    "billion": 10**9,
    "billions": 10**9,
    "bn": 10**9,
    "b": 10**9,
    "million": 10**6,
    "millions": 10**6,
    "mil": 10**6,
    "m": 10**6,
    "thousand": 10**3,
    "thousands": 10**3,
}
_CURRENCIES = frozenset({"d", "dong", "vnd"})
_MAX_AMOUNT_CHARS = 200
_NEGATIVE = re.compile(r"^(?:[-−–—]\s*|am\s*)\d")
_APPROX = re.compile(r"^(?:(?:khoang|tam|uoc tinh)\s+|[~≈]\s*)")
_LEAD_PUNCT = "\"'“”‘’«»([{"
_TRAIL_PUNCT = ".,;:!?\"'“”‘’«»)]}"
_AMOUNT_TOKEN = re.compile(r"(?P<num>\d+(?:[., ]\d+)*)|(?P<word>[a-z]+)|(?P<space> )|(?P<other>.)")
_SEPARATORS = re.compile(r"[., ]")


# The button that says the amount cannot be estimated, named by the errors below.
CANNOT_ESTIMATE = _("Cannot estimate")


def _amount_not_understood(unknown: Text) -> InputError:
    """The error for an amount that cannot be read."""
    return InputError(
        _("Please type an amount like 5 billion, 200 million or 1,200,000, or choose “{button}”.",
          button=unknown)
    )  # fmt: skip


def _amount_not_positive(unknown: Text) -> InputError:
    """The error for a negative or zero amount."""
    return InputError(
        _("The amount must be more than zero. Please type an amount like 200 million, "
          "or choose “{button}”.", button=unknown)
    )  # fmt: skip


def _amount_too_large() -> InputError:
    """The error for an amount above MAX_BENEFIT_VND."""
    return InputError(
        _(
            "That is more than the maximum of {maximum}. Please check the number of zeros.",
            maximum=Money(MAX_BENEFIT_VND),
        )
    )


def _grouped(parts: Sequence[str]) -> bool:
    """Tell whether digit groups form valid thousands grouping (1-3 digits, then 3s)."""
    return 1 <= len(parts[0]) <= 3 and all(len(p) == 3 for p in parts[1:])


def _read_number(token: str) -> tuple[Decimal, bool] | None:
    """Read a typed number as (value, has_decimals), or None when its separators clash."""
    seps = _SEPARATORS.findall(token)
    if not seps:
        return Decimal(token), False
    kinds = set(seps)
    last = seps[-1]
    if len(kinds) == 1 and len(seps) == 1 and last != " ":
        whole, frac = token.split(last)
        if len(frac) != 3:
            return Decimal(f"{whole}.{frac}"), True
        # Exactly three digits after a lone separator: a thousands separator.
    elif len(kinds) > 1:
        if seps.count(last) != 1 or last == " ":
            return None
        whole, frac = token.rsplit(last, 1)
        if len(set(_SEPARATORS.findall(whole))) != 1 or not _grouped(_SEPARATORS.split(whole)):
            return None
        return Decimal("".join(_SEPARATORS.split(whole)) + "." + frac), True
    parts = _SEPARATORS.split(token)
    if not _grouped(parts):
        return None
    return Decimal("".join(parts)), False


def _tokens(text: str) -> list[tuple[str, str]]:
    """Split a folded amount into (kind, text) tokens, dropping spaces."""
    result: list[tuple[str, str]] = []
    for match in _AMOUNT_TOKEN.finditer(text):
        kind = match.lastgroup
        if kind is None or kind == "space":
            continue
        result.append((kind, match.group()))
    return result


def _sum_groups(tokens: Sequence[tuple[str, str]]) -> Decimal | None:
    """Add up "number [unit]" groups with falling units and an optional currency."""
    total = Decimal(0)
    previous_unit: int | None = None
    i = 0
    n = len(tokens)
    while i < n:
        kind, value = tokens[i]
        if kind == "word" and value in _CURRENCIES and i == n - 1 and previous_unit is not None:
            return total
        if kind != "num":
            return None
        number = _read_number(value)
        if number is None:
            return None
        amount, has_decimals = number
        i += 1
        unit = 1
        if i < n and tokens[i][0] == "word" and tokens[i][1] in _UNITS:
            unit = _UNITS[tokens[i][1]]
            i += 1
        if unit == 1 and (previous_unit is not None or has_decimals):
            return None
        if previous_unit is not None and (unit >= previous_unit or amount * unit >= previous_unit):
            return None
        total += amount * unit
        previous_unit = unit
    return total if previous_unit is not None else None


def parse_amount(text: str, unknown: Text = CANNOT_ESTIMATE) -> int | None:
    """Read an estimated benefit in VND ("5 tỷ", "200tr", "1.200.000đ", "1.5 billion");
    None means unknown. Errors name the ``unknown`` button."""
    stripped = " ".join(text.split())
    folded = _fold(stripped).replace("₫", " d ")
    if normalize_search(folded) in _UNKNOWN:
        return None
    if "?" in folded and not normalize_search(folded):
        return None
    if not stripped or len(stripped) > _MAX_AMOUNT_CHARS:
        raise _amount_not_understood(unknown)
    folded = folded.strip(" ").lstrip(_LEAD_PUNCT).rstrip(_TRAIL_PUNCT).strip(" ")
    folded = _APPROX.sub("", folded)
    if _NEGATIVE.match(folded):
        raise _amount_not_positive(unknown)
    with localcontext() as ctx:
        ctx.prec = 4 * _MAX_AMOUNT_CHARS
        total = _sum_groups(_tokens(" ".join(folded.split())))
        if total is None:
            raise _amount_not_understood(unknown)
        vnd = total.quantize(Decimal(1), rounding=ROUND_HALF_UP)
    if vnd <= 0:
        raise _amount_not_positive(unknown)
    if vnd > MAX_BENEFIT_VND:
        raise _amount_too_large()
    return int(vnd)


# ---------------------------------------------------------------------------
# Dates
# ---------------------------------------------------------------------------

_DATE = re.compile(r"(\d{1,2})\s*([/.\-])\s*(\d{1,2})\s*\2\s*(\d+)")


def parse_day(text: str, today: dt.date) -> dt.date:
    """Read a past date typed as dd/mm/yyyy (also d/m/yyyy, dd-mm-yyyy, dd.mm.yyyy)."""
    match = _DATE.fullmatch(text.strip().rstrip("."))
    if match is None:
        raise InputError(
            _("Please type the date as dd/mm/yyyy, for example {example}.", example=Day(today))
        )
    day, _sep, month, year = match.groups()
    if len(year) != 4:
        raise InputError(
            _("Please type the year with four digits, for example {example}.", example=Day(today))
        )
    try:
        value = dt.date(int(year), int(month), int(day))
    except ValueError:
        raise InputError(
            _(
                "That date does not exist. Please check the day and month, for example {example}.",
                example=Day(today),
            )
        ) from None
    if value > today:
        raise InputError(
            _(
                "The date cannot be later than today, {today}. Please type a past date.",
                today=Day(today),
            )
        )
    if value < EARLIEST_DAY:
        raise InputError(
            _(
                "The date cannot be before {earliest}. Please check the year.",
                earliest=Day(EARLIEST_DAY),
            )
        )
    return value


# ---------------------------------------------------------------------------
# Co-authors
# ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CoauthorInput:
    """A co-author as typed: a name and an optional share in percent (12.5 means 12,5%)."""

    name: str
    share: Decimal | None


_BULLET = re.compile(r"^(?:[-•*+–—]|\d{1,2}[.)])\s+")
_NUMBER = r"\d+(?:[.,]\d+)?"
_WITH_SHARE = re.compile(
    rf"(?P<name>.*?)[\s\-–—:,]*(?:\(\s*(?P<a>{_NUMBER})\s*%\s*\)|(?P<b>{_NUMBER})\s*%)"
)
_WITHOUT_PERCENT = re.compile(rf"(?P<name>.*?)[\s\-–—:,(]*{_NUMBER}\s*\)?")
_NAME_TRIM = " -–—:,("
_SHOWN_MAX = 80


def _read_share(raw: str, entry: str) -> Decimal:
    """Turn a typed percentage into a Decimal within (0, 100] with at most two decimals."""
    share = Decimal(raw.replace(",", "."))
    if not 0 < share <= 100:
        raise InputError(
            _("The share in “{entry}” must be more than 0% and at most 100%.", entry=entry)
        )
    exponent = share.as_tuple().exponent
    if isinstance(exponent, int) and exponent < 0:
        share = share.normalize()
        exponent = share.as_tuple().exponent
        if isinstance(exponent, int) and exponent < -2:
            raise InputError(
                _("The share in “{entry}” can have at most two decimals, like 12,5%.", entry=entry)
            )
        if isinstance(exponent, int) and exponent > 0:
            share = share.quantize(Decimal(1))
    return share


def _check_name(name: str, entry: str) -> None:
    """Reject names without letters, with a stray % or of the wrong length."""
    if "%" in name:
        raise InputError(
            _(
                "I could not read “{entry}”. Please type a name, then a share if any, "
                "like “Nguyen Van B 30%”.",
                entry=entry,
            )
        )
    if not any(ch.isalpha() for ch in name):
        raise InputError(
            _(
                "“{entry}” does not look like a name. Please type the co-author’s full name.",
                entry=entry,
            )
        )
    if not NAME_MIN <= len(name) <= NAME_MAX:
        raise InputError(
            _(
                "The name in “{entry}” should be {minimum} to {maximum} characters long.",
                entry=entry,
                minimum=NAME_MIN,
                maximum=NAME_MAX,
            )
        )


def _shown(entry: str) -> str:
    """Shorten an entry for quoting it back in a message."""
    return entry if len(entry) <= _SHOWN_MAX else entry[: _SHOWN_MAX - 1] + "…"


def _parse_entry(typed: str) -> CoauthorInput:
    """Read one "name [share%]" entry."""
    entry = _shown(typed)
    body = _BULLET.sub("", typed)
    share: Decimal | None = None
    match = _WITH_SHARE.fullmatch(body)
    if match is not None:
        name = match.group("name")
        raw = match.group("a") or match.group("b")
        share = _read_share(raw, entry)
    else:
        bare = _WITHOUT_PERCENT.fullmatch(body)
        if bare is not None and any(ch.isalpha() for ch in bare.group("name")):
            raise InputError(
                _(
                    "Please add “%” after the share in “{entry}”, like “Nguyen Van B 30%”.",
                    entry=entry,
                )
            )
        name = body
    name = name.strip(_NAME_TRIM)
    _check_name(name, entry)
    return CoauthorInput(name=name, share=share)


def parse_coauthors(text: str) -> list[CoauthorInput]:
    """Read co-authors typed one per line (or separated by ";"), each "name [share%]"."""
    lines = _clean_newlines(text).splitlines()
    entries = [" ".join(part.split()) for line in lines for part in line.split(";")]
    entries = [entry for entry in entries if entry]
    if not entries:
        raise InputError(
            _("Please type at least one co-author, one per line, like “Nguyen Van B 30%”.")
        )
    result = [_parse_entry(entry) for entry in entries]
    check_coauthor_total((), result)
    return result


def check_coauthor_total(existing: Sequence[CoauthorInput], new: Sequence[CoauthorInput]) -> None:
    """Check the combined co-authors: not too many, shares within 100%, no name twice."""
    combined = [*existing, *new]
    if len(combined) > MAX_COAUTHORS:
        raise InputError(
            _(
                "You can add at most {maximum} co-authors. Please remove some.",
                maximum=MAX_COAUTHORS,
            )
        )
    total = sum((c.share for c in combined if c.share is not None), Decimal(0))
    if total > 100:
        raise InputError(
            _(
                "The shares add up to {total}, which is more than 100%. Please check them.",
                total=Percent(total),
            )
        )
    seen: set[str] = set()
    for coauthor in combined:
        key = normalize_search(coauthor.name)
        if key in seen:
            raise InputError(
                _(
                    "“{entry}” is listed more than once. Please type each co-author once.",
                    entry=_shown(coauthor.name),
                )
            )
        seen.add(key)


# ---------------------------------------------------------------------------
# Free text
# ---------------------------------------------------------------------------


def _clean_newlines(text: str) -> str:
    """Turn Windows and old Mac line endings into "\\n" and drop NUL characters."""
    return text.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "")


def clean_text(text: str | None, *, limit: int) -> str:
    """Strip typed text and check it is neither empty nor longer than ``limit`` characters."""
    cleaned = _clean_newlines(text or "").strip()
    if not cleaned:
        raise InputError(_("Please type some text."))
    if len(cleaned) > limit:
        raise InputError(
            _(
                "This text has {length} characters; please shorten it to at most {limit}.",
                length=len(cleaned),
                limit=limit,
            )
        )
    return cleaned
