"""Gettext catalogs and the translator that turns core ``Text`` into strings.

Catalogs are the ``.po`` files beside this module; they are compiled in memory at
start-up, so a stale ``.mo`` can never disagree with its source.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable
from decimal import Decimal
from functools import cache
from io import BytesIO
from pathlib import Path
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_date, format_datetime
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_currency, format_decimal, format_percent
from babel.support import Translations
from babel.units import format_unit

from domain.text import Amount, Day, Duration, Moment, Money, Month, Percent, Text, Verbatim

CATALOG_DIR = Path(__file__).parent
DOMAIN = "messages"
# Babel locale used to format numbers, money and dates for each interface language.
LOCALES = {"vi": "vi_VN", "en": "en_US"}


def catalog_path(language: str) -> Path:
    """Where the catalog of a language lives."""
    return CATALOG_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"


@cache
def load_translations(language: str) -> Translations:
    """Compile a language's catalog in memory."""
    with catalog_path(language).open("rb") as source:
        catalog = read_po(source, locale=LOCALES[language])
    buffer = BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(buffer, domain=DOMAIN)


def _duration(seconds: float, locale: Locale) -> str:
    """Seconds under a minute, minutes under an hour, else hours and minutes; rounded up,
    so that "about 2 minutes" is never less than it takes."""
    whole = max(1, math.ceil(seconds))
    if whole < 60:
        return format_unit(whole, "duration-second", locale=locale)
    minutes = math.ceil(whole / 60)
    if minutes < 60:
        return format_unit(minutes, "duration-minute", locale=locale)
    hours = format_unit(minutes // 60, "duration-hour", locale=locale)
    if not minutes % 60:
        return hours
    return f"{hours} {format_unit(minutes % 60, 'duration-minute', locale=locale)}"


class Translator:
    """Renders core texts in a language, formatting values the way its readers expect."""

    def __init__(self, timezone: ZoneInfo, languages: Iterable[str] = ("vi", "en")) -> None:
        self._tz = timezone
        self._translations = {lang: load_translations(lang) for lang in languages}
        self._locales = {lang: Locale.parse(LOCALES[lang]) for lang in self._translations}

    @property
    def languages(self) -> list[str]:
        """The languages with a catalog."""
        return list(self._translations)

    def render(self, text: Text, language: str) -> str:
        """Translate ``text`` and fill in its arguments."""
        translations = self._translations.get(language) or self._translations["vi"]
        if text.plural is not None:
            template = translations.ngettext(text.msgid, text.plural, text.count or 0)
        else:
            template = translations.gettext(text.msgid)
        if not text.args:
            return template
        values = {name: self._value(value, language) for name, value in text.args.items()}
        return template.format(**values)

    def lines(self, texts: Iterable[Text], language: str) -> str:
        """Render texts as lines of one message."""
        return "\n".join(self.render(text, language) for text in texts)

    def _amount(self, vnd: int, language: str) -> str:
        """Sums in tỷ (10^9) or triệu (10^6) đồng, to one decimal."""
        locale = self._locales.get(language) or self._locales["vi"]
        vietnamese = language == "vi"
        for size, vi_word, en_word in ((10**9, "tỷ đồng", "billion VND"),
                                       (10**6, "triệu đồng", "million VND")):  # fmt: skip
            if abs(vnd) >= size:
                number = format_decimal(Decimal(vnd) / size, format="#,##0.#", locale=locale)
                return f"{number} {vi_word if vietnamese else en_word}"
        return f"{format_decimal(vnd, locale=locale)} {'đồng' if vietnamese else 'VND'}"

    def _measure(
        self, value: Duration | Amount | Money | Percent, language: str, locale: Locale
    ) -> str:
        """A length of time, a sum of money or a percentage."""
        if isinstance(value, Duration):
            return _duration(value.seconds, locale)
        if isinstance(value, Amount):
            return self._amount(value.vnd, language)
        if isinstance(value, Money):
            return format_currency(value.vnd, "VND", locale=locale)
        return format_percent(Decimal(str(value.value)) / 100, format="#,##0.#%", locale=locale)

    def _month(self, value: dt.date, locale: Locale) -> str:
        """mm/yyyy; an instant in the union's clock, where its month may differ."""
        if isinstance(value, dt.datetime):
            value = value.astimezone(self._tz)
        return format_date(value, "MM/yyyy", locale=locale)

    def _value(self, value: object, language: str) -> str:
        locale = self._locales.get(language) or self._locales["vi"]
        if isinstance(value, Verbatim):
            return value.value
        if isinstance(value, Text):
            return self.render(value, language)
        if isinstance(value, tuple):
            return ", ".join(self._value(item, language) for item in value)
        if isinstance(value, bool):
            return str(value)
        if isinstance(value, int | Decimal):
            return format_decimal(value, locale=locale)
        if isinstance(value, Duration | Amount | Money | Percent):
            return self._measure(value, language, locale)
        if isinstance(value, Day):
            return format_date(value.value, "dd/MM/yyyy", locale=locale)
        if isinstance(value, Month):
            return self._month(value.value, locale)
        if isinstance(value, Moment):
            return format_datetime(value.value.astimezone(self._tz), "HH:mm dd/MM/yyyy",
                                   tzinfo=self._tz, locale=locale)  # fmt: skip
        if isinstance(value, dt.date):
            return format_date(value, "dd/MM/yyyy", locale=locale)
        return str(value)
