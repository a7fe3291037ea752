"""The catalogs cover every message in the code, translated and with the right placeholders."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from decimal import Decimal
from functools import cache
from zoneinfo import ZoneInfo

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.pofile import read_po

from domain.dialog import BACK
from domain.text import Day, Money, Percent, Text, Verbatim, _
from locales import LOCALES, Translator, catalog_path
from locales.extract import extract

PLACEHOLDER = re.compile(r"\{([A-Za-z_]\w*)[^{}]*\}")
LANGUAGES = sorted(LOCALES)


@cache
def code_messages() -> Catalog:
    """The messages marked in the code, extracted once per test run."""
    return extract()


@cache
def catalog(language: str) -> Catalog:
    with catalog_path(language).open("rb") as source:
        return read_po(source, locale=LOCALES[language])


def entries(language: str) -> list[Message]:
    return [message for message in catalog(language) if message.id]


def key(message: Message) -> str:
    """The msgid: a plural's singular form."""
    return message.id if isinstance(message.id, str) else message.id[0]


def strings(message: Message) -> list[str]:
    if message.pluralizable:
        return list(message.string or ())
    return [message.string] if isinstance(message.string, str) else [""]


def placeholders(text: str) -> set[str]:
    return set(PLACEHOLDER.findall(text))


def has_vietnamese(text: str) -> bool:
    """True when the text has a Vietnamese letter: đ or a letter with a tone or vowel mark."""
    decomposed = unicodedata.normalize("NFD", text)
    return any(c in "đĐ" or "\u0300" <= c <= "\u036f" for c in decomposed)


def report(problem: str, msgids: list[str]) -> str:
    return f"{len(msgids)} {problem}:\n" + "\n".join(f"  {msgid!r}" for msgid in msgids)


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_code_message_is_in_catalog(language: str) -> None:
    present = {key(message) for message in entries(language)}
    missing = [key(m) for m in code_messages() if m.id and key(m) not in present]
    assert not missing, report(
        f"messages missing from {language} (run `python -m locales.extract`)", missing
    )


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_entry_is_translated(language: str) -> None:
    needed = catalog(language).num_plurals
    untranslated = [
        key(message)
        for message in entries(language)
        if not all(strings(message)) or (message.pluralizable and len(strings(message)) < needed)
    ]
    assert not untranslated, report(f"untranslated entries in {language}", untranslated)


@pytest.mark.parametrize("language", LANGUAGES)
def test_no_entry_is_fuzzy(language: str) -> None:
    fuzzy = [key(message) for message in entries(language) if message.fuzzy]
    assert not fuzzy, report(f"fuzzy entries in {language}", fuzzy)


@pytest.mark.parametrize("language", LANGUAGES)
def test_placeholders_match(language: str) -> None:
    wrong = []
    for message in entries(language):
        if isinstance(message.id, str):
            expected = placeholders(message.id)
        else:
            expected = placeholders(message.id[0]) | placeholders(message.id[1])
        if any(
            translation and placeholders(translation) != expected
            for translation in strings(message)
        ):
            wrong.append(key(message))
    assert not wrong, report(f"translations in {language} with other placeholders", wrong)


def test_vietnamese_catalog_is_vietnamese() -> None:
    messages = entries("vi")
    translated = [(key(m), strings(m)[0]) for m in messages if strings(m) and strings(m)[0]]
    differ = [msgid for msgid, text in translated if text != msgid]
    accented = [msgid for msgid, text in translated if has_vietnamese(text)]
    assert len(differ) >= 0.8 * len(messages), f"only {len(differ)}/{len(messages)} differ"
    assert len(accented) >= 0.7 * len(messages), f"only {len(accented)}/{len(messages)} accented"
    # Shown in the newly chosen language, so it announces Vietnamese.
    assert catalog("vi")["Language changed to English."].string == "Đã chuyển sang tiếng Việt."


def render(text: Text) -> str:
    translator = Translator(ZoneInfo("Asia/Ho_Chi_Minh"))
    # Babel separates the amount and ₫ with a no-break space.
    return translator.render(text, "vi").replace("\u00a0", " ")


def test_translator_formats_values_the_vietnamese_way() -> None:
    benefit = render(_("Estimated benefit recorded: {amount}. If that is wrong, choose “{back}”.",
                       amount=Money(1_200_000), back=BACK))  # fmt: skip
    assert "1.200.000 ₫" in benefit
    assert "Quay lại" in benefit
    share = render(
        _("{name} ({share})", name=Verbatim("Trần Thị B"), share=Percent(Decimal("446.2")))
    )
    assert "446,2%" in share
    assert "22/11/2026" in render(_("Applied since {date}", date=Day(dt.date(2026, 11, 22))))
    assert "56.106" in render(_("Files: {count}", count=56106))
